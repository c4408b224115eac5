import type { EntityManager } from '@mikro-orm/postgresql';
import type { Task } from '../../entities/index.js';
import { CloudError, type CloudDriver } from '../drivers/cloud/index.js';
import type { Logger } from '../logger.js';
import type { CloudService } from '../services/clouds/cloud-service.js';
import type { TransportService } from '../services/transports/transport-service.js';
import { DiskNotReadable, type VmDiskSources } from '../services/vsphere/vm-disk-sources.js';
import { VSphereError } from '../drivers/vsphere/vsphere-error.js';
import { PeerError } from '../transport/signed-http.js';
import type { TransportClient } from '../transport/transport-client.js';

/** The steps of a task's flow, in order; each runs when due, in a transaction holding the task's row lock. */
export type StepName = 'provision' | 'cycle' | 'await-cycle' | 'release-vm-snapshot' | 'snapshot' | 'convert' | 'await-conversion' | 'boot' | 'await-server';

export interface EngineTimings {
  /** how often each process looks for due steps even without a wake-up */
  tickMs: number;
  /** how long a cycle or conversion may stay silent before Ferry asks the transport */
  reconcileMs: number;
  /** how often a booting server and a changing volume are polled */
  pollMs: number;
  /** the first automatic retry of a transient failure; doubled each time */
  retryBaseMs: number;
  /** transient failures retried automatically before the task goes to error (1003) */
  maxRetries: number;
  /** the longest a cloud volume, snapshot or server may take to become ready */
  readyTimeoutMs: number;
  /** how long one minute of IntervalMinutes lasts (tests run copies every few hundred milliseconds) */
  minuteMs: number;
}

export const DEFAULT_TIMINGS: EngineTimings = { tickMs: 1_000, reconcileMs: 60_000, pollMs: 1_000, retryBaseMs: 5_000, maxRetries: 3, readyTimeoutMs: 10 * 60_000, minuteMs: 60_000 };

/** A step could not finish: `retryable` when trying again later may work (timeouts, 5xx, unreachable). */
export class StepFailure extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

/** The step must wait (a transport at capacity) and run again after `ms`, without counting as a failure. */
export class StepWait extends Error {
  constructor(readonly ms: number) {
    super('wait');
  }
}

export interface StepOutcome {
  next: StepName | null;
  /** when the next step is due, from now; immediately when absent */
  inMs?: number;
}

export interface StepContext {
  em: EntityManager;
  /** locked, with its volumes, source host, cloud and transports loaded */
  task: Task;
  timings: EngineTimings;
  log: Logger;
  cloud(): Promise<CloudDriver>;
  transport(): Promise<TransportClient>;
  /** the disks of vSphere VMs (agentless sources) */
  vmDisks: VmDiskSources;
}

const TRANSIENT_CLOUD = new Set(['timeout', 'unreachable', 'server-error']);

/** Runs a cloud call; its CloudError becomes a StepFailure (transient kinds retryable). */
export async function inCloud<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof CloudError) throw new StepFailure(err.message, TRANSIENT_CLOUD.has(err.kind));
    throw err;
  }
}

const LASTING_VSPHERE = new Set(['invalid-login', 'tls-untrusted', 'tls-changed']);

/** Runs a vSphere call; its failure becomes a StepFailure (a refused login or certificate, or an unreadable disk, not retryable). */
export async function inVsphere<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof DiskNotReadable) throw new StepFailure(err.message, false);
    if (err instanceof VSphereError) throw new StepFailure(err.message, !LASTING_VSPHERE.has(err.kind));
    throw err;
  }
}

/** Runs a transport call; its failure becomes a StepFailure naming the transport (busy: a wait). */
export async function inTransport<T>(mgntAddr: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof StepFailure || err instanceof StepWait) throw err;
    if (err instanceof PeerError) {
      if (err.status === 409 && err.detail.error === 'busy') throw new StepWait(2_000);
      throw new StepFailure(`transport at ${mgntAddr} answered HTTP ${err.status}: ${err.detail.message}`, err.status >= 500);
    }
    if (err instanceof Error) throw new StepFailure(`transport at ${mgntAddr} cannot be reached: ${err.message || (err as { cause?: Error }).cause?.message || err.name}`, true);
    throw err;
  }
}

/**
 * A unit of work is done (volumes ready, a copy or conversion ended well, a snapshot taken, the
 * server booted): its failures no longer count. Starting a copy is not: it may fail again and again.
 */
export function workDone(task: Task): void {
  task.attempts = 0;
}

export function contextFor(em: EntityManager, task: Task, deps: { clouds: CloudService; transports: TransportService; vmDisks: VmDiskSources; timings: EngineTimings; log: Logger }): StepContext {
  let driver: CloudDriver | undefined;
  let client: TransportClient | undefined;
  return {
    em,
    task,
    timings: deps.timings,
    log: deps.log,
    vmDisks: deps.vmDisks,
    async cloud() {
      if (driver) return driver;
      const found = await deps.clouds.driverOf(task.cloud.id);
      if (!found.ok) throw new StepFailure(found.error.message, false);
      return (driver = found.value);
    },
    async transport() {
      if (client) return client;
      const found = await deps.transports.clientOf(task.targetTransport.id);
      if (!found.ok) throw new StepFailure(found.error.message, false);
      return (client = found.value);
    },
  };
}
