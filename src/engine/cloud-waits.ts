import { setTimeout as sleep } from 'node:timers/promises';
import { CloudError, type CloudDriver, type Server, type Snapshot, type Volume } from '../drivers/cloud/index.js';
import { inCloud, StepFailure, type EngineTimings } from './step-context.js';

/** Polls `read` until `done` says so; an error status or the time limit fails the step. */
async function until<T extends { status: string }>(what: string, read: () => Promise<T>, done: (x: T) => boolean, timings: EngineTimings): Promise<T> {
  for (const end = Date.now() + timings.readyTimeoutMs; ; await sleep(Math.min(timings.pollMs, 500))) {
    const x = await inCloud(read);
    if (done(x)) return x;
    if (/^error/i.test(x.status)) throw new StepFailure(`${what} went to status ${x.status}`, false);
    if (Date.now() > end) throw new StepFailure(`${what} is still ${x.status} after ${Math.round(timings.readyTimeoutMs / 1000)} s`, true);
  }
}

export const volumeReady = (cloud: CloudDriver, id: string, name: string, t: EngineTimings): Promise<Volume> =>
  until(`cloud volume ${name}`, () => cloud.getVolume(id), (v) => v.status === 'available' || v.status === 'in-use', t);

export const volumeDetached = (cloud: CloudDriver, id: string, name: string, t: EngineTimings): Promise<Volume> =>
  until(`cloud volume ${name}`, () => cloud.getVolume(id), (v) => v.status === 'available', t);

export const volumeAttached = (cloud: CloudDriver, id: string, name: string, t: EngineTimings): Promise<Volume> =>
  until(`cloud volume ${name}`, () => cloud.getVolume(id), (v) => v.status === 'in-use', t);

export const snapshotReady = (cloud: CloudDriver, id: string, name: string, t: EngineTimings): Promise<Snapshot> =>
  until(`cloud snapshot ${name}`, () => cloud.getSnapshot(id), (s) => s.status === 'available', t);

/** A server's state once it left BUILD; ERROR fails with the cloud's fault. */
export async function serverSettled(cloud: CloudDriver, id: string): Promise<Server | null> {
  const server = await inCloud(() => cloud.getServer(id));
  if (server.status === 'ERROR') throw new StepFailure(`the migrated server ${server.name} went to ERROR${server.fault ? `: ${server.fault}` : ''}`, false);
  return server.status === 'ACTIVE' ? server : null;
}

/** For `.catch`: a thing the cloud does not know (any more) is null; any other failure stays one. */
export function nullIfGone(err: unknown): null {
  if (err instanceof CloudError && err.kind === 'not-found') return null;
  throw err;
}
