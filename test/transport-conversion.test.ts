import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransportEvent } from '../src/transport/protocol.js';
import type { TransportClient } from '../src/transport/transport-client.js';
import { EventSink, makeImage, pairedTransport, sha256, spawnFerry, waitForCycle, type FerryProcess } from './support/transport-fixture.js';
import { until } from './support/wait.js';

const MiB = 1024 * 1024;

/** A 64 MiB disk with a real MBR (sfdisk) and a bootable ext4 partition (mkfs.ext4). */
function makeBootDisk(file: string): void {
  execFileSync('truncate', ['-s', `${64 * MiB}`, file]);
  execFileSync('sfdisk', ['-q', file], { input: 'label: dos\nstart=2048, size=100000, type=83, bootable\n' });
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', `offset=${2048 * 512}`, file, `${Math.floor((100000 * 512) / 1024)}k`]);
}

describe('conversion of the boot disk on the transport', () => {
  let dir: string;
  const processes: FerryProcess[] = [];
  const sinks: EventSink[] = [];

  /**
   * An agent and a transport whose PATH holds only `toolDir`, so the test decides whether
   * virt-v2v-in-place exists. Each transport gets its own agent: an agent serves one transport.
   */
  async function transportWith(toolDir: string): Promise<{ client: TransportClient; sink: EventSink; agentAddr: string }> {
    const agent = await spawnFerry('agent', ['--disk', path.join(dir, 'boot.img'), '--state', await mkdtemp(path.join(dir, 'agent-'))]);
    const t = await spawnFerry('transport', ['--state', await mkdtemp(path.join(dir, 'state-'))], undefined, { ...process.env, PATH: toolDir });
    processes.push(agent, t);
    const sink = await EventSink.create();
    sinks.push(sink);
    return { client: await pairedTransport(t.addr, sink), sink, agentAddr: agent.addr };
  }

  async function copyBootDisk(client: TransportClient, agentAddr: string, target: string): Promise<void> {
    await client.startCycle({ cycleId: `copy-${path.basename(target)}`, taskId: `t-${path.basename(target)}`, agentAddr, kind: 'full', disks: [{ disk: path.join(dir, 'boot.img'), targetPath: target }] });
    expect((await waitForCycle(client, `copy-${path.basename(target)}`)).state).toBe('finished');
    expect(await sha256(target)).toBe(await sha256(path.join(dir, 'boot.img')));
  }

  const conversionEvent = async (sink: EventSink, id: string): Promise<TransportEvent> => {
    await until(() => sink.events.some((e) => 'conversionId' in e && e.conversionId === id), 20_000);
    return sink.events.find((e) => 'conversionId' in e && e.conversionId === id)!;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-v2v-'));
    makeBootDisk(path.join(dir, 'boot.img'));
    await makeImage(path.join(dir, 'blank.img'), 8, []);
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    for (const s of sinks) await s.down();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the host facts through the transport, disk layout included', async () => {
    const { client, agentAddr } = await transportWith(path.join(dir, 'no-tools'));
    const facts = await client.agentFacts(agentAddr);
    expect(facts.cpus).toBe(os.cpus().length);
    expect(facts.memoryBytes).toBe(os.totalmem());
    expect(facts.disks).toEqual([
      expect.objectContaining({ path: path.join(dir, 'boot.img'), kind: 'image-file', sizeBytes: 64 * MiB, partitionTable: 'MBR', use: 'boot', partitions: [expect.objectContaining({ number: 1, bootable: true, filesystem: 'ext4', freeBytes: expect.any(Number) })] }),
    ]);
    expect(await client.verifyAgent(agentAddr)).toMatchObject({ reachable: true, agent: { role: 'agent' } });
  });

  it('says plainly that nothing was converted when virt-v2v-in-place is absent, after checking the boot disk', async () => {
    const { client, sink, agentAddr } = await transportWith(path.join(dir, 'no-tools'));
    const target = path.join(dir, 'plain.target');
    await copyBootDisk(client, agentAddr, target);
    await client.startConversion({ conversionId: 'conv-absent', taskId: 'task-absent', targets: [{ targetPath: target, boot: true }] });
    const event = await conversionEvent(sink, 'conv-absent');
    expect(event).toMatchObject({
      type: 'conversion.finished',
      result: { converted: false, tool: null, bootDisk: { partitionTable: 'MBR', filesystems: ['ext4'] } },
    });
    expect(event.type === 'conversion.finished' && event.result.message).toMatch(/virt-v2v-in-place is not installed.*NOT converted/);
  });

  it('runs virt-v2v-in-place on the boot disk when the transport has it, and reports its failure as such', async () => {
    const tools = path.join(dir, 'tools');
    await mkdir(tools);
    const calls = path.join(dir, 'v2v-calls.txt');
    // a stand-in for the real tool (not installable here): records its arguments, fails on request
    await writeFile(path.join(tools, 'virt-v2v-in-place'), `#!/bin/sh\necho "$@" >> ${calls}\n[ -e ${dir}/v2v-should-fail ] && { echo "inspection failed: no root device found" >&2; exit 1; }\nexit 0\n`);
    await chmod(path.join(tools, 'virt-v2v-in-place'), 0o755);
    const { client, sink, agentAddr } = await transportWith(`${tools}:/bin:/usr/bin`);
    const target = path.join(dir, 'v2v.target');
    await copyBootDisk(client, agentAddr, target);

    await client.startConversion({ conversionId: 'conv-ok', taskId: 'task-v2v', targets: [{ targetPath: target, boot: true }] });
    expect(await conversionEvent(sink, 'conv-ok')).toMatchObject({ type: 'conversion.finished', result: { converted: true, tool: 'virt-v2v-in-place' } });
    expect((await readFile(calls, 'utf8')).trim()).toBe(`-i disk ${target}`);

    await writeFile(path.join(dir, 'v2v-should-fail'), '');
    await client.startConversion({ conversionId: 'conv-bad', taskId: 'task-v2v', targets: [{ targetPath: target, boot: true }] });
    const failed = await conversionEvent(sink, 'conv-bad');
    expect(failed).toMatchObject({ type: 'conversion.failed', failure: { cause: 'conversion-failed', message: expect.stringContaining('no root device found') } });
  });

  it('refuses to convert a disk without any filesystem it recognises', async () => {
    const { client, sink } = await transportWith(path.join(dir, 'no-tools'));
    await client.startConversion({ conversionId: 'conv-blank', taskId: 'task-blank', targets: [{ targetPath: path.join(dir, 'blank.img'), boot: true }] });
    expect(await conversionEvent(sink, 'conv-blank')).toMatchObject({ type: 'conversion.failed', failure: { cause: 'conversion-failed', message: expect.stringContaining('no filesystem') } });
  });
});
