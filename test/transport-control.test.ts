import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_PORT, DEFAULT_TRANSPORT_PORT, parseAddress } from '../src/transport/protocol.js';
import { TransportClient } from '../src/transport/transport-client.js';
import { EventSink, makeImage, pairedTransport, sha256, spawnFerry, waitForCycle, type FerryProcess } from './support/transport-fixture.js';
import { sleep, until } from './support/wait.js';


describe('addresses', () => {
  it.each([
    ['10.0.0.5', DEFAULT_AGENT_PORT, { host: '10.0.0.5', port: 7001 }],
    ['10.0.0.5:9001', DEFAULT_AGENT_PORT, { host: '10.0.0.5', port: 9001 }],
    ['transport.example', DEFAULT_TRANSPORT_PORT, { host: 'transport.example', port: 7002 }],
    ['[::1]', DEFAULT_TRANSPORT_PORT, { host: '::1', port: 7002 }],
    ['[::1]:8000', DEFAULT_TRANSPORT_PORT, { host: '::1', port: 8000 }],
    ['host:0', DEFAULT_AGENT_PORT, undefined],
    ['host:70000', DEFAULT_AGENT_PORT, undefined],
    ['http://host:1', DEFAULT_AGENT_PORT, undefined],
    ['', DEFAULT_AGENT_PORT, undefined],
    ['a b', DEFAULT_AGENT_PORT, undefined],
  ])('%s → %o', (text, port, expected) => {
    expect(parseAddress(text, port)).toEqual(expected);
  });
});

describe('commanding a transport', () => {
  let dir: string;
  let agent: FerryProcess;
  let transport: FerryProcess;
  let sink: EventSink;
  let client: TransportClient;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-control-'));
    await makeImage(path.join(dir, 'big.img'), 48, Array.from({ length: 40 }, (_, i) => i + 2));
    await makeImage(path.join(dir, 'other.img'), 8, [1]);
    agent = await spawnFerry('agent', ['--disk', path.join(dir, 'big.img'), '--disk', path.join(dir, 'other.img'), '--state', path.join(dir, 'agent-state')]);
    transport = await spawnFerry('transport', ['--state', path.join(dir, 'transport-state'), '--max-tasks', '1', '--storage-type', 'XSKY', '--storage-id', 'pool-7']);
    sink = await EventSink.create();
    client = await pairedTransport(transport.addr, sink);
  });
  afterAll(async () => {
    await transport.stop();
    await agent.stop();
    await sink.down();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports what it is, then how busy it is, and refuses work past MaxSupportedTasks', async () => {
    expect(await new TransportClient(transport.addr).info()).toEqual({ protocol: 1, role: 'transport', maxSupportedTasks: 1, currentTasks: 0, storageId: 'pool-7', storageType: 'XSKY', paired: true });
    const slow = { cycleId: 'slow-1', taskId: 'task-a', agentAddr: agent.addr, kind: 'full' as const, qosMBps: 10, disks: [{ disk: path.join(dir, 'big.img'), targetPath: path.join(dir, 'big.target') }] };
    expect(await client.startCycle(slow)).toMatchObject({ cycleId: 'slow-1', state: 'running' });
    expect((await client.info()).currentTasks).toBe(1);
    // the same request again is harmless
    expect(await client.startCycle(slow)).toMatchObject({ cycleId: 'slow-1' });
    await expect(client.startCycle({ ...slow, cycleId: 'other-1', taskId: 'task-b', disks: [{ disk: path.join(dir, 'other.img'), targetPath: path.join(dir, 'other.target') }] })).rejects.toThrow(/maximum/);
    await expect(client.startCycle({ ...slow, cycleId: 'slow-2' })).rejects.toThrow(/already running/);

    // cancel: the cycle stops, says so, and the target is not taken as consistent
    await sleep(700);
    expect(await client.cancelCycle('slow-1')).toEqual({ cancelled: true });
    const cancelled = await waitForCycle(client, 'slow-1');
    expect(cancelled.state).toBe('cancelled');
    await until(() => sink.of('slow-1', 'cycle.cancelled').length === 1);
    expect((await client.info()).currentTasks).toBe(0);
    await expect(client.cancelCycle('no-such-cycle')).rejects.toThrow(/no cycle/);

    // an incremental cycle afterwards completes the copy from what was written
    const rest = await client.startCycle({ ...slow, cycleId: 'slow-3', kind: 'incremental', qosMBps: undefined });
    expect(rest.state).toBe('running');
    const done = await waitForCycle(client, 'slow-3');
    expect(done.state).toBe('finished');
    expect(done.disks[0].sentBlocks).toBeLessThan(40);
    expect(await sha256(path.join(dir, 'big.target'))).toBe(await sha256(path.join(dir, 'big.img')));
  });

  it('answers malformed commands with 400 naming the field', async () => {
    await expect(client.startCycle({ cycleId: 'x y', taskId: 't', agentAddr: agent.addr, kind: 'full', disks: [] } as never)).rejects.toThrow(/cycleId: may contain only/);
    await expect(client.startCycle({ cycleId: 'ok', taskId: 't', agentAddr: agent.addr, kind: 'sideways', disks: [{ disk: 'a', targetPath: 'b' }] } as never)).rejects.toThrow(/kind/);
    await expect(client.startCycle({ cycleId: 'ok', taskId: 't', agentAddr: agent.addr, kind: 'full', blockSize: 1000, disks: [{ disk: 'a', targetPath: 'b' }] })).rejects.toThrow(/blockSize/);
  });

  it('forgets ended cycles after a week, keeping recent ones and their idempotent start', async () => {
    const state = path.join(dir, 'aged-state');
    await mkdir(path.join(state, 'cycles'), { recursive: true });
    const ended = (cycleId: string, daysAgo: number) => {
      const at = new Date(Date.now() - daysAgo * 24 * 3600 * 1000).toISOString();
      const request = { cycleId, taskId: `task-${cycleId}`, agentAddr: agent.addr, kind: 'full', disks: [{ disk: path.join(dir, 'other.img'), targetPath: path.join(dir, `${cycleId}.target`) }] };
      const status = { cycleId, taskId: request.taskId, kind: 'full', state: 'finished', startedAt: at, endedAt: at, disks: [], rateBytesPerSec: 0 };
      return writeFile(path.join(state, 'cycles', `${cycleId}.json`), JSON.stringify({ request, status }));
    };
    await ended('old-1', 8);
    await ended('recent-1', 6);
    const aged = await spawnFerry('transport', ['--state', state]);
    const agedSink = await EventSink.create();
    try {
      const agedClient = await pairedTransport(aged.addr, agedSink, 'aged-ferry');
      expect((await agedClient.status()).cycles.map((c) => c.cycleId)).toEqual(['recent-1']);
      expect(await readdir(path.join(state, 'cycles'))).toEqual(['recent-1.json']);
      // a start repeated within the week is still recognised, not run again
      const again = await agedClient.startCycle({ cycleId: 'recent-1', taskId: 'task-recent-1', agentAddr: agent.addr, kind: 'full', disks: [{ disk: path.join(dir, 'other.img'), targetPath: path.join(dir, 'recent-1.target') }] });
      expect(again.state).toBe('finished');
    } finally {
      await aged.stop();
      await agedSink.down();
    }
  });
});
