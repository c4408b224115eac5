import { mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleRequest } from '../src/transport/protocol.js';
import { BufferPool, FrameParser } from '../src/transport/frame-reader.js';
import { openBlockStream } from '../src/transport/server/block-stream.js';
import { signedJson } from '../src/transport/signed-http.js';
import { signMessage } from '../src/transport/signing.js';
import type { TransportClient } from '../src/transport/transport-client.js';
import { EventSink, makeImage, pairedTransport, rewriteBlocks, sha256, spawnFerry, waitForCycle, type FerryProcess } from './support/transport-fixture.js';
import { sleep, until } from './support/wait.js';

const MiB = 1024 * 1024;

describe('a sync cycle through a real agent and transport', () => {
  let dir: string;
  let agent: FerryProcess;
  let transport: FerryProcess;
  let sink: EventSink;
  let client: TransportClient;
  const img = (name: string) => path.join(dir, name);
  let seq = 0;
  const cycle = (disk: string, target: string, more: Partial<CycleRequest> = {}): CycleRequest => ({
    cycleId: `cycle-${++seq}`,
    taskId: `task-${seq}`,
    agentAddr: agent.addr,
    kind: 'full',
    disks: [{ disk, targetPath: target }],
    ...more,
  });
  const run = async (request: CycleRequest) => {
    await client.startCycle(request);
    return waitForCycle(client, request.cycleId);
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-transport-'));
    for (const name of ['a.img', 'text.img', 'slow.img', 'crash.img', 'lost.img', 'quiet.img']) await makeImage(img(name), 1, []);
    await makeImage(img('a.img'), 64, [0, 1, 2, 10, 11, 30, 63]);
    await makeImage(img('text.img'), 24, Array.from({ length: 16 }, (_, i) => i), 'text');
    await makeImage(img('slow.img'), 64, Array.from({ length: 48 }, (_, i) => i + 8));
    await makeImage(img('crash.img'), 64, Array.from({ length: 40 }, (_, i) => i + 4));
    await makeImage(img('lost.img'), 64, Array.from({ length: 40 }, (_, i) => i + 4));
    await makeImage(img('quiet.img'), 16, [1, 2, 3]);
    const disks = ['a.img', 'text.img', 'slow.img', 'crash.img', 'lost.img', 'quiet.img'].flatMap((n) => ['--disk', img(n)]);
    agent = await spawnFerry('agent', [...disks, '--state', path.join(dir, 'agent-state')]);
    transport = await spawnFerry('transport', ['--state', path.join(dir, 'transport-state'), '--max-tasks', '8']);
    sink = await EventSink.create();
    client = await pairedTransport(transport.addr, sink);
  });
  afterAll(async () => {
    await transport?.stop();
    await agent?.stop();
    await sink?.down();
    await rm(dir, { recursive: true, force: true });
  });

  it('copies a disk in full, then only the changed blocks, leaving byte-identical targets', async () => {
    const first = await run(cycle(img('a.img'), img('a.target')));
    expect(first.state).toBe('finished');
    expect(await sha256(img('a.target'))).toBe(await sha256(img('a.img')));
    expect(first.disks[0]).toMatchObject({ sizeBytes: 64 * MiB, sentBlocks: 7, zeroBlocks: 0 });
    // zero regions were not sent and stay holes in the target
    expect((await stat(img('a.target'))).blocks * 512).toBeLessThan(9 * MiB);

    await rewriteBlocks(img('a.img'), [5, 11, 40]);
    const second = await run(cycle(img('a.img'), img('a.target'), { kind: 'incremental' }));
    expect(second.state).toBe('finished');
    expect(second.disks[0]).toMatchObject({ sentBlocks: 3, zeroBlocks: 0, unchangedBlocks: 61 });
    expect(second.disks[0].wireBytes).toBeLessThan(3 * MiB + 64 * 1024);
    expect(await sha256(img('a.target'))).toBe(await sha256(img('a.img')));

    const idle = await run(cycle(img('a.img'), img('a.target'), { kind: 'incremental' }));
    expect(idle.disks[0]).toMatchObject({ sentBlocks: 0, unchangedBlocks: 64 });

    await until(() => sink.of(second.cycleId, 'cycle.finished').length === 1);
    const event = sink.of(second.cycleId, 'cycle.finished')[0];
    expect(event.type === 'cycle.finished' && event.disks[0]).toMatchObject({ sentBlocks: 3, digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('writes into a block device as well (a loop device standing in for an attached cloud volume)', async () => {
    const { execFileSync } = await import('node:child_process');
    await makeImage(img('volume.backing'), 80, []);
    const device = execFileSync('losetup', ['--find', '--show', img('volume.backing')]).toString().trim();
    try {
      // the device starts with garbage where the source has zeros: those blocks must be written
      await rewriteBlocks(device, [3, 4, 20]);
      const full = await run(cycle(img('a.img'), device));
      expect(full.state).toBe('finished');
      expect(full.disks[0].zeroBlocks).toBeGreaterThan(0);
      const head = async () => {
        const { createHash } = await import('node:crypto');
        const { open } = await import('node:fs/promises');
        const h = await open(device, 'r');
        try {
          const buf = Buffer.alloc(64 * MiB);
          await h.read(buf, 0, buf.length, 0);
          return createHash('sha256').update(buf).digest('hex');
        } finally {
          await h.close();
        }
      };
      expect(await head()).toBe(await sha256(img('a.img')));
      await rewriteBlocks(img('a.img'), [33]);
      const next = await run(cycle(img('a.img'), device, { kind: 'incremental' }));
      expect(next.disks[0]).toMatchObject({ sentBlocks: 1, unchangedBlocks: 63 });
      expect(await head()).toBe(await sha256(img('a.img')));

      const small = execFileSync('losetup', ['--find', '--show', img('quiet.img')]).toString().trim();
      try {
        const tooSmall = await run(cycle(img('a.img'), small));
        expect(tooSmall.error).toMatchObject({ cause: 'target-too-small', retryable: false });
      } finally {
        execFileSync('losetup', ['-d', small]);
      }
    } finally {
      execFileSync('losetup', ['-d', device]);
    }
  });

  it('compresses compressible data on the wire when asked, with the same result', async () => {
    const plain = await run(cycle(img('text.img'), img('text.plain')));
    const packed = await run(cycle(img('text.img'), img('text.packed'), { compress: true }));
    expect(packed.disks[0].wireBytes).toBeLessThan(plain.disks[0].wireBytes / 5);
    expect(await sha256(img('text.packed'))).toBe(await sha256(img('text.img')));
    expect(await sha256(img('text.plain'))).toBe(await sha256(img('text.img')));
  });

  it('holds the bandwidth cap', async () => {
    const capMBps = 12;
    const request = cycle(img('slow.img'), img('slow.target'), { qosMBps: capMBps });
    await client.startCycle(request);
    const samples: { t: number; bytes: number }[] = [];
    for (;;) {
      const status = (await client.status()).cycles.find((c) => c.cycleId === request.cycleId)!;
      samples.push({ t: performance.now(), bytes: status.disks[0].wireBytes });
      if (status.state !== 'running') break;
      await sleep(100);
    }
    const total = samples.at(-1)!.bytes;
    const seconds = (samples.at(-1)!.t - samples[0].t) / 1000;
    expect(total).toBeGreaterThan(48 * MiB);
    expect(total / seconds).toBeLessThanOrEqual(capMBps * 1e6 * 1.05);
    expect(total / seconds).toBeGreaterThan(capMBps * 1e6 * 0.7);
    // every 2 s window (the 100 ms burst is 5 % of it)
    for (const a of samples) {
      const b = samples.find((s) => s.t - a.t >= 2000);
      if (!b) break;
      expect((b.bytes - a.bytes) / ((b.t - a.t) / 1000)).toBeLessThanOrEqual(capMBps * 1e6 * 1.1);
    }
    expect(await sha256(img('slow.target'))).toBe(await sha256(img('slow.img')));

    // the progress the controller hears is measured: it moves forward and its rate is the capped one
    await until(() => sink.of(request.cycleId, 'cycle.finished').length === 1);
    const progress = sink.of(request.cycleId, 'cycle.progress').map((e) => (e.type === 'cycle.progress' ? e.progress : undefined)!);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i].disks[0].scannedBytes).toBeGreaterThanOrEqual(progress[i - 1].disks[0].scannedBytes);
      expect(progress[i].disks[0].wireBytes).toBeGreaterThan(progress[i - 1].disks[0].wireBytes);
    }
    const settled = progress.slice(1).map((p) => p.rateBytesPerSec);
    expect(Math.max(...settled)).toBeLessThanOrEqual(capMBps * 1e6 * 1.1);
    expect(Math.min(...settled)).toBeGreaterThan(capMBps * 1e6 * 0.6);
    expect(progress.at(-1)!.disks[0].wireBytes).toBeLessThanOrEqual(total);
  });

  it('resumes a cycle after the transport is killed mid-way, sending only what it had not written', async () => {
    const request = cycle(img('crash.img'), img('crash.target'), { qosMBps: 10 });
    await client.startCycle(request);
    for (let written = 0; written < 8 * MiB; await sleep(100)) {
      written = (await client.status()).cycles.find((c) => c.cycleId === request.cycleId)!.disks[0].writtenBytes;
    }
    await transport.stop(true);
    transport = await spawnFerry('transport', transport.args, transport.port);
    const done = await waitForCycle(client, request.cycleId);
    expect(done.state).toBe('finished');
    expect(await sha256(img('crash.target'))).toBe(await sha256(img('crash.img')));
    // the resumed run sent less than the whole disk's data
    expect(done.disks[0].sentBlocks).toBeLessThan(40);
    expect(done.disks[0].sentBlocks).toBeGreaterThan(0);
    await until(() => sink.of(request.cycleId, 'cycle.finished').length > 0);
  });

  it('reports an agent lost mid-cycle with its cause, and the retry ends identical', async () => {
    const request = cycle(img('lost.img'), img('lost.target'), { qosMBps: 10 });
    await client.startCycle(request);
    for (let written = 0; written < 4 * MiB; await sleep(100)) {
      written = (await client.status()).cycles.find((c) => c.cycleId === request.cycleId)!.disks[0].writtenBytes;
    }
    await agent.stop(true);
    const failed = await waitForCycle(client, request.cycleId);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ cause: 'agent-lost', retryable: true });
    await until(() => sink.of(request.cycleId, 'cycle.failed').length === 1);

    agent = await spawnFerry('agent', agent.args, agent.port);
    const retry = await run({ ...request, cycleId: `${request.cycleId}-retry`, qosMBps: undefined });
    expect(retry.state).toBe('finished');
    expect(await sha256(img('lost.target'))).toBe(await sha256(img('lost.img')));
  });

  it('reports an unreachable agent, a vanished disk and a full target, each with its cause', async () => {
    const nowhere = await run({ ...cycle(img('quiet.img'), img('quiet.target')), agentAddr: '127.0.0.1:1' });
    expect(nowhere.error).toMatchObject({ cause: 'agent-unreachable', retryable: true });

    const unknown = await run(cycle(path.join(dir, 'not-served.img'), img('quiet.target')));
    expect(unknown.error).toMatchObject({ cause: 'disk-vanished' });

    const tmpfs = path.join(dir, 'small-fs');
    const { execFileSync } = await import('node:child_process');
    await import('node:fs/promises').then((fs) => fs.mkdir(tmpfs));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tmpfs]);
    try {
      const full = await run(cycle(img('quiet.img'), path.join(tmpfs, 'quiet.target')));
      expect(full.error).toMatchObject({ cause: 'target-full', retryable: true });
      expect(full.error?.message).toContain('ENOSPC');
    } finally {
      execFileSync('umount', [tmpfs]);
    }

    // shrink the source while the cycle reads it
    const request = cycle(img('lost.img'), img('shrink.target'), { qosMBps: 8 });
    await client.startCycle(request);
    await sleep(800);
    await truncate(img('lost.img'), 10 * MiB);
    const shrunk = await waitForCycle(client, request.cycleId);
    expect(shrunk.error).toMatchObject({ cause: 'disk-vanished' });
  });

  it('refuses a second controller, and commands not signed by the first', async () => {
    const { TransportClient } = await import('../src/transport/transport-client.js');
    const intruder = new TransportClient(transport.addr);
    await expect(intruder.pair('another-ferry', 'http://127.0.0.1:9/x')).rejects.toThrow(/paired with another controller/);
    await expect(signedJson({ baseUrl: client.baseUrl, method: 'GET', path: '/v1/status' })).rejects.toThrow(/not|signature|missing/i);
    await expect(signedJson({ baseUrl: client.baseUrl, secret: 'guessed-secret', method: 'GET', path: '/v1/status' })).rejects.toThrow(/bad signature/);
    expect((await client.status()).maxSupportedTasks).toBe(8);
  });

  it('lets only its paired transport read the agent’s disks', async () => {
    const agentUrl = `http://${agent.addr}`;
    const body = Buffer.from(JSON.stringify({ disk: img('a.img'), blockSize: MiB, compress: false }));
    const readWith = (headers: Record<string, string>) =>
      openBlockStream({ address: { host: '127.0.0.1', port: agent.port }, path: '/v1/disks/read', headers, body, signal: new AbortController().signal, timeoutMs: 5_000 }, new FrameParser(2 * MiB, new BufferPool(MiB)));
    await expect(readWith({})).rejects.toMatchObject({ status: 401, message: expect.stringMatching(/missing.*signature/i) });
    await expect(readWith(signMessage('guessed', 'POST', '/v1/disks/read', body))).rejects.toMatchObject({ status: 401, message: 'bad signature' });
    // the stream is only served as an upgrade
    await expect(signedJson({ baseUrl: agentUrl, method: 'POST', path: '/v1/disks/read', body: {} })).rejects.toMatchObject({ status: 426, message: expect.stringMatching(/Upgrade: ferry-blocks\/1/) });
    await expect(signedJson({ baseUrl: agentUrl, method: 'POST', path: '/v1/pair', body: { controllerId: 'rogue-transport' } })).rejects.toThrow(/paired with another controller/);
    // and a transport paired with nobody's agent cannot use this one
    const other = await spawnFerry('transport', ['--state', path.join(dir, 'other-transport')]);
    try {
      const otherSink = await EventSink.create();
      const otherClient = await pairedTransport(other.addr, otherSink, 'other-ferry');
      await expect(otherClient.verifyAgent(agent.addr)).rejects.toThrow(/refused/);
      await otherSink.down();
    } finally {
      await other.stop();
    }
  });

  it('keeps events while the controller is down and delivers them, once each, when it is back', async () => {
    await sink.down();
    const request = cycle(img('quiet.img'), img('quiet.later'));
    const done = await run(request);
    expect(done.state).toBe('finished');
    await sleep(500);
    expect(sink.of(request.cycleId, 'cycle.finished')).toHaveLength(0);
    await sink.up();
    await until(() => sink.of(request.cycleId, 'cycle.finished').length === 1, 20_000);
    const ids = sink.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const seqs = sink.events.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });
});
