import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage, rewriteBlocks, sha256, spawnFerry, type FerryProcess } from './support/transport-fixture.js';

const run = promisify(execFile);

describe('ferry agent + ferry transport + ferry sync, as a user runs them', () => {
  let dir: string;
  let agent: FerryProcess;
  let transport: FerryProcess;
  const sync = (...args: string[]) =>
    run(process.execPath, [path.resolve('bin/ferry.js'), 'sync', '--agent', agent.addr, '--transport', transport.addr, '--disk', path.join(dir, 'disk.img'), '--target', path.join(dir, 'volume'), '--state', path.join(dir, 'sync-state'), ...args]);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-sync-'));
    await makeImage(path.join(dir, 'disk.img'), 32, [0, 3, 4, 5, 20]);
    agent = await spawnFerry('agent', ['--disk', path.join(dir, 'disk.img'), '--state', path.join(dir, 'agent-state')]);
    transport = await spawnFerry('transport', ['--state', path.join(dir, 'transport-state')]);
  });
  afterAll(async () => {
    await agent.stop();
    await transport.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('copies the disk, then only what changed, and prints what the transport measured', async () => {
    const full = await sync('--compress');
    expect(full.stdout).toMatch(/finished in [\d.]+ s: 5 blocks sent, 0 zero, 27 unchanged/);
    expect(await sha256(path.join(dir, 'volume'))).toBe(await sha256(path.join(dir, 'disk.img')));

    await rewriteBlocks(path.join(dir, 'disk.img'), [7, 8]);
    const incremental = await sync('--kind', 'incremental');
    expect(incremental.stdout).toMatch(/finished in [\d.]+ s: 2 blocks sent, 0 zero, 30 unchanged; 2\.1 MB on the wire/);
    expect(await sha256(path.join(dir, 'volume'))).toBe(await sha256(path.join(dir, 'disk.img')));
  });

  it('explains bad arguments', async () => {
    await expect(sync('--kind', 'sideways')).rejects.toMatchObject({ stderr: expect.stringContaining('--kind must be full or incremental') });
  });
});
