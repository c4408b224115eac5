import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FerryConfig } from '../../src/config.js';
import { generateLicenseKeyPair, issueActivationKey } from '../../src/services/license/activation-key.js';
import { rest } from './clients.js';
import { adminToken, startTestFerry, type TestFerry } from './ferry.js';
import { spawnSimulator, type SimulatorProcess } from './simulator.js';
import { spawnFerry, type FerryProcess } from './transport-fixture.js';

const MiB = 1024 * 1024;

/** Fast pacing for tests: a "minute" of IntervalMinutes is 400 ms; Ferry asks the transport after 1.5 s of silence. */
export const TEST_TIMINGS = { tickMs: 200, reconcileMs: 1_500, pollMs: 100, retryBaseMs: 200, maxRetries: 1, readyTimeoutMs: 30_000, minuteMs: 400 };

/** A 64 MiB disk with an MBR, one bootable partition and ext4 on it, then 1 MiB of random data in the free space. */
export function makeBootDisk(file: string): void {
  execFileSync('truncate', ['-s', `${64 * MiB}`, file]);
  execFileSync('sfdisk', ['-q', file], { input: 'label: dos\nstart=2048, size=100000, type=83, bootable\n' });
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', `offset=${2048 * 512}`, file, `${Math.floor((100000 * 512) / 1024)}k`]);
}

/** Writes `bytes` random bytes at `offset` of an image: the change the next copy must carry. */
export async function scribble(file: string, offset: number, bytes = 256 * 1024): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.write(randomBytes(bytes), 0, bytes, offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface TaskWorld {
  dir: string;
  sim: SimulatorProcess;
  transport: FerryProcess;
  agent: FerryProcess;
  t: TestFerry;
  token: string;
  cloudId: string;
  transportId: string;
  hostId: string;
  /** the simulator's seeded network and flavor for the migrated server */
  networkId: string;
  flavorId: string;
  images: { boot: string; data: string };
  call(body: Record<string, unknown>, url?: string): ReturnType<typeof rest>;
  close(): Promise<void>;
}

/**
 * The whole outside world of a task as real processes: the OpenStack simulator, a cloud transport
 * that says which simulated server it is, an agent serving two disk images, and a Ferry with a
 * license, a cloud connection, the transport and the agent host registered through REST.
 */
export async function startTaskWorld(config: Partial<FerryConfig> = {}, simArgs: string[] = []): Promise<TaskWorld> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-tasks-'));
  const images = { boot: path.join(dir, 'boot.img'), data: path.join(dir, 'data.img') };
  makeBootDisk(images.boot);
  execFileSync('truncate', ['-s', `${16 * MiB}`, images.data]);
  await scribble(images.data, 3 * MiB, MiB);
  const sim = await spawnSimulator('openstack', ['--dir', path.join(dir, 'cloud'), ...simArgs]);
  const serverId = /transport server: \S+ (\S+)/.exec(sim.output())?.[1];
  if (!serverId) throw new Error(`the simulator did not print its transport server: ${sim.output()}`);
  const [transport, agent] = await Promise.all([
    spawnFerry('transport', ['--state', path.join(dir, 'transport'), '--max-tasks', '2', '--cloud-server-id', serverId]),
    spawnFerry('agent', ['--disk', images.boot, '--disk', images.data, '--state', path.join(dir, 'agent')]),
  ]);
  const vendor = await generateLicenseKeyPair();
  const t = await startTestFerry({ licensePublicKey: vendor.publicPem, hostCheckSeconds: 3600, engineTimings: TEST_TIMINGS, ...config });
  const token = await adminToken(t.url);
  const call = (body: Record<string, unknown>, url = '/MgmtTask') => rest(t.url, url, body, token);
  const expectOk = async (body: Record<string, unknown>, url: string) => {
    const r = await call(body, url);
    if (r.body?.Code !== true && r.body?.Code !== 0) throw new Error(`${body.Action} failed: ${r.text}`);
    return r.body.Data;
  };
  await expectOk({ Action: 'UpdateLicense', ActivationKey: await issueActivationKey(vendor.privatePem, 3, new Date(Date.now() + 86_400_000)) }, '/MgntSetting');
  const cloud = await expectOk({ Action: 'AddCloudConnection', CloudName: 'sim-cloud', CloudType: 'Openstack', ProjectName: 'demo', CloudUser: 'admin', CloudPass: 'secret', CloudAddr: '127.0.0.1', IdentityPort: String(sim.port) }, '/MgmtCloudConnection');
  const trans = await expectOk({ Action: 'AddTransportServer', ServType: 'Cloud', Name: 'cloud-transport', CloudId: cloud.ID, MgntAddr: transport.addr }, '/MgmtTransportConnection');
  const host = await expectOk({ Action: 'AddPackerHost', Name: 'web-1', TransId: trans.ID, MgntAddr: agent.addr }, '/portal/MgmtHostConnection');
  const networks = await call({ Action: 'ListNetworks', Id: cloud.ID });
  const flavors = await call({ Action: 'ListFlavors', Id: cloud.ID });
  const network = networks.body.Networks.find((n: { Subnets: unknown[] }) => n.Subnets.length > 0);
  const world: TaskWorld = {
    dir, sim, transport, agent, t, token, images,
    cloudId: cloud.ID,
    transportId: trans.ID,
    hostId: host.ID,
    networkId: network.Id,
    flavorId: flavors.body.Flavors[0].ID,
    call,
    // the world's current processes: a test may have replaced one (an agent restarted)
    async close() {
      await t.close();
      await Promise.all([world.transport.stop(), world.agent.stop(), world.sim.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/**
 * Whether a cloud volume (a file of the simulator, larger than the image) holds exactly the bytes
 * of a source image and zeros after them. Compared natively chunk by chunk: Ferry runs in this
 * process, and a byte-by-byte loop over a 1 GiB volume would stall it for seconds.
 */
export async function sameBytes(image: string, volumeFile: string): Promise<boolean> {
  const CHUNK = 4 * MiB;
  const zeros = Buffer.alloc(CHUNK);
  const [a, b] = await Promise.all([open(image, 'r'), open(volumeFile, 'r')]);
  try {
    const [sizeA, sizeB] = [(await a.stat()).size, (await b.stat()).size];
    if (sizeB < sizeA) return false;
    const bufA = Buffer.alloc(CHUNK);
    const bufB = Buffer.alloc(CHUNK);
    for (let at = 0; at < sizeB; at += CHUNK) {
      const { bytesRead } = await b.read(bufB, 0, CHUNK, at);
      const fromImage = at < sizeA ? (await a.read(bufA, 0, Math.min(CHUNK, sizeA - at), at)).bytesRead : 0;
      if (!bufB.subarray(0, fromImage).equals(bufA.subarray(0, fromImage))) return false;
      if (!bufB.subarray(fromImage, bytesRead).equals(zeros.subarray(0, bytesRead - fromImage))) return false;
    }
    return true;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}
