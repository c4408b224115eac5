/**
 * Transport throughput benchmark (`npm run bench:transport`; not a test).
 *
 * Builds a sparse raw image of BENCH_SIZE_MB MiB (default 2048: ~60 % random 1 MiB blocks, the rest
 * zero regions), starts a real `ferry agent` and `ferry transport`, pairs a controller, and times
 * a full cycle, then an incremental after rewriting 1 % of the blocks, then one after 10 %.
 * The same work is timed with cp --sparse=always (full), rsync --inplace --no-whole-file
 * (incrementals) and xxhsum over the source (the floor: read and hash once). Every copy is checked
 * with sha256 against the source, outside the timing. The last line printed is one JSON object.
 *
 * BENCH_SIZE_MB   image size in MiB (default 2048)
 * BENCH_SEED      seed of the block positions (default 1)
 * BENCH_PREFAULT  1 (default): before each timed run, touch and free as much memory as the image,
 *                 so that no run pays for the first touch of memory (see docs/benchmarks.md); 0: don't
 * BENCH_REPEAT    how many times each measurement is taken (default 1); the figures are the medians
 * See docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CycleRequest, CycleStatus } from '../src/transport/protocol.js';
import type { TransportClient } from '../src/transport/transport-client.js';
import { EventSink, pairedTransport, sha256, spawnFerry, type FerryProcess } from '../test/support/transport-fixture.js';

const MiB = 1024 * 1024;
const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 2048);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const PREFAULT = process.env.BENCH_PREFAULT !== '0';
const REPEAT = Number(process.env.BENCH_REPEAT ?? 1);
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`BENCH_REPEAT must be a positive integer, not ${process.env.BENCH_REPEAT}`);
const DATA_SHARE = 0.6;
if (!Number.isInteger(SIZE_MB) || SIZE_MB < 16) throw new Error(`BENCH_SIZE_MB must be an integer ≥ 16, not ${process.env.BENCH_SIZE_MB}`);
const SIZE_BYTES = SIZE_MB * MiB;
const BLOCKS = SIZE_MB; // 1 MiB blocks

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (line = '') => process.stdout.write(`${line}\n`);

/** mulberry32: block positions are reproducible for a seed (the data itself is random). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);

// ---------------------------------------------------------------- the image

/**
 * Runs of data blocks alternate with zero regions (run lengths 1..64 blocks) until ~60 % of the
 * blocks hold data. Data blocks are slices of an 8 MiB random pool at random offsets, stamped with
 * their index every 32 KiB so no two blocks (nor rsync-sized pieces of them) are alike. Zero
 * regions are never written: the file stays sparse.
 */
async function makeImage(file: string): Promise<number> {
  const pool = randomBytes(8 * MiB + MiB);
  const isData = new Uint8Array(BLOCKS);
  let dataBlocks = 0;
  for (let at = 0; at < BLOCKS; ) {
    const run = 1 + Math.floor(rand() * 64);
    const data = rand() < DATA_SHARE;
    for (let i = at; i < Math.min(BLOCKS, at + run); i++) {
      isData[i] = data ? 1 : 0;
      if (data) dataBlocks++;
    }
    at += run;
  }
  const handle = await open(file, 'w');
  const chunk = Buffer.allocUnsafe(16 * MiB);
  try {
    await handle.truncate(SIZE_BYTES);
    for (let start = 0; start < BLOCKS; ) {
      if (!isData[start]) {
        start++;
        continue;
      }
      let end = start;
      while (end < BLOCKS && isData[end] && end - start < 16) {
        const off = (end - start) * MiB;
        const from = Math.floor(rand() * 8 * MiB) & ~7;
        pool.copy(chunk, off, from, from + MiB);
        for (let s = 0; s < MiB; s += 32 * 1024) {
          chunk.writeUInt32LE(end, off + s);
          chunk.writeUInt32LE(s, off + s + 4);
          chunk.writeUInt32LE((rand() * 2 ** 32) >>> 0, off + s + 8);
          chunk.writeUInt32LE(SEED, off + s + 12);
        }
        end++;
      }
      await handle.write(chunk, 0, (end - start) * MiB, start * MiB);
      start = end;
    }
  } finally {
    await handle.close();
  }
  return dataBlocks;
}

/** Overwrites `share` of the blocks, at random distinct positions, with new random data. */
async function rewriteShare(file: string, share: number): Promise<number[]> {
  const count = Math.max(1, Math.round(BLOCKS * share));
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(rand() * BLOCKS));
  const blocks = [...picked].sort((a, b) => a - b);
  const handle = await open(file, 'r+');
  try {
    for (const b of blocks) await handle.write(randomBytes(MiB), 0, MiB, b * MiB);
  } finally {
    await handle.close();
  }
  return blocks;
}

// ---------------------------------------------------------------- external commands

async function hasCommand(name: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      await access(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** Runs a command to its end; seconds of wall time. Its stdout goes to /dev/null. */
async function timed(cmd: string, args: string[]): Promise<number> {
  const out = await open('/dev/null', 'w');
  try {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', out.fd, 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`);
    return seconds;
  } finally {
    await out.close();
  }
}

/** Touches `mib` MiB of fresh memory in a child process, which then exits and frees it. */
const touchMemory = (mib: number) =>
  timed(process.execPath, ['-e', `const kept = []; for (let i = 0; i < ${mib}; i += 64) kept.push(Buffer.allocUnsafeSlow(64 << 20).fill(1));`]);

/**
 * Before every measured run: write back all dirty pages (so no run pays for an earlier one's
 * writeback), read the source once (so every run reads it from the page cache alike) and, unless
 * BENCH_PREFAULT=0, touch and free as much memory as the image (so the run's new page-cache pages
 * are ones the machine has already backed).
 */
async function prepare(file: string): Promise<void> {
  await timed('sync', []);
  await timed('cat', [file]);
  if (PREFAULT) await touchMemory(SIZE_MB);
}

/** All CPUs' busy and total time so far, in clock ticks, from /proc/stat (Linux only). */
async function systemTicks(): Promise<{ busy: number; total: number }> {
  const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - (fields[4] ?? 0), total };
}

/** CPU time of a process in clock ticks: user + system, and with `children` that of its waited-for children. */
async function processTicks(pid: number | 'self', children = false): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
}

/** Busy share of all CPUs over `ms` (undefined where there is no /proc/stat). */
async function cpuBusy(ms: number): Promise<number | undefined> {
  try {
    const a = await systemTicks();
    await sleep(ms);
    const b = await systemTicks();
    return (b.busy - a.busy) / Math.max(1, b.total - a.total);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- results

/** Every measurement taken, by name, in the order first taken. */
const rows = new Map<string, number[]>();
const mbps = (seconds: number) => (SIZE_BYTES / 1e6 / seconds).toFixed(0);
const record = (what: string, seconds: number, note?: string) => {
  rows.set(what, [...(rows.get(what) ?? []), seconds]);
  log(`  ${what}: ${seconds.toFixed(3)} s (${mbps(seconds)} MB/s)${note ? `  ${note}` : ''}`);
  return seconds;
};
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const measured = (what: string) => median(rows.get(what) ?? [NaN]);
const round = (s: number) => Math.round(s * 1000) / 1000;

async function expectSame(copy: string, source: string, what: string): Promise<void> {
  const [a, b] = await Promise.all([sha256(copy), sha256(source)]);
  if (a !== b) throw new Error(`VERIFICATION FAILED: ${what}: sha256 of ${copy} is ${a}, of the source ${b}`);
}

/** Calls the transport again after a dropped connection (all calls used here are idempotent). */
async function retrying<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (attempt >= 3 || !(code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/.test((err as Error).message))) throw err;
      log(`  (the transport dropped a connection: ${(err as Error).message}; asking again)`);
    }
  }
}

// ---------------------------------------------------------------- the run

const cleanups: (() => Promise<unknown>)[] = [];
/** The processes' output, shown when the run fails. */
const outputs: { name: string; proc: FerryProcess }[] = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) await step().catch((err) => process.stderr.write(`cleanup: ${(err as Error).message}\n`));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = (name: string) => path.join(dir, name);
  const source = file('source.img');
  const target = file('ferry-target.img');
  const cpCopy = file('cp-copy.img'); // then the rsync target, one state behind the source

  log(`Ferry transport benchmark: ${SIZE_MB} MiB image, 1 MiB blocks, seed ${SEED}, prefault ${PREFAULT ? 'on' : 'off'}`);
  log(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`);
  const busy = await cpuBusy(1000);
  if (busy !== undefined) log(`background CPU load before the run: ${(busy * 100).toFixed(0)} % of all CPUs${busy > 0.1 ? '  (WARNING: something else is running; figures will be noisy)' : ''}`);
  log(`work dir: ${dir}`);
  const floorTool = (await hasCommand('xxhsum')) ? 'xxhsum' : 'cat';
  for (const tool of ['cp', 'rsync', 'cat', 'sync']) if (!(await hasCommand(tool))) throw new Error(`${tool} is not installed; the benchmark needs it`);

  const t0 = performance.now();
  const dataBlocks = await makeImage(source);
  log(`image: ${dataBlocks} data blocks (${((100 * dataBlocks) / BLOCKS).toFixed(0)} %), ${BLOCKS - dataBlocks} zero blocks, made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const agent: FerryProcess = await spawnFerry('agent', ['--disk', source, '--state', file('agent-state')]);
  cleanups.push(() => agent.stop());
  outputs.push({ name: 'agent', proc: agent });
  const transport: FerryProcess = await spawnFerry('transport', ['--state', file('transport-state')]);
  cleanups.push(() => transport.stop());
  outputs.push({ name: 'transport', proc: transport });
  const sink = await EventSink.create();
  cleanups.push(() => sink.down());
  const client: TransportClient = await pairedTransport(transport.addr, sink, 'ferry-bench');
  const ourTicks = async () => (await processTicks('self', true)) + (await processTicks(agent.proc.pid!)) + (await processTicks(transport.proc.pid!));
  const ticksAtStart = await Promise.all([systemTicks(), ourTicks()]).catch(() => undefined);

  let seq = 0;
  const runCycle = async (kind: CycleRequest['kind']): Promise<{ seconds: number; status: CycleStatus; durationMs?: number }> => {
    const request: CycleRequest = { cycleId: `bench-${++seq}`, taskId: 'bench', agentAddr: agent.addr, kind, disks: [{ disk: source, targetPath: target }] };
    await prepare(source);
    const timeoutMs = Math.max(300_000, SIZE_MB * 200);
    const deadline = Date.now() + timeoutMs;
    const started = performance.now();
    await retrying(() => client.startCycle(request));
    let status: CycleStatus | undefined;
    for (;;) {
      status = (await retrying(() => client.status())).cycles.find((c) => c.cycleId === request.cycleId);
      if (status && status.state !== 'running') break;
      if (Date.now() > deadline) throw new Error(`cycle ${request.cycleId} still running after ${timeoutMs / 1000} s`);
      await sleep(5);
    }
    const seconds = (performance.now() - started) / 1000;
    if (status.state !== 'finished') throw new Error(`${kind} cycle ${request.cycleId} ended ${status.state}: ${JSON.stringify(status.error)}`);
    let durationMs: number | undefined;
    for (const end = Date.now() + 5_000; Date.now() < end && durationMs === undefined; await sleep(20)) {
      const event = sink.of(request.cycleId, 'cycle.finished')[0];
      if (event?.type === 'cycle.finished') durationMs = event.durationMs;
    }
    return { seconds, status, durationMs };
  };
  const describe = (r: { status: CycleStatus; durationMs?: number }) => {
    const d = r.status.disks[0];
    return `[sent ${d.sentBlocks}, zero ${d.zeroBlocks}, unchanged ${d.unchangedBlocks} blocks; wire ${(d.wireBytes / MiB).toFixed(1)} MiB; written ${(d.writtenBytes / MiB).toFixed(1)} MiB${r.durationMs !== undefined ? `; the transport's own duration ${(r.durationMs / 1000).toFixed(3)} s` : ''}]`;
  };

  const times = (label: string) => (REPEAT > 1 ? ` (${label} of ${REPEAT})` : '');
  const FERRY_FULL = 'ferry full cycle';
  const CP = 'cp --sparse=always';
  const CP_SYNC = 'cp --sparse=always, then sync the copy (informative)';
  const FLOOR = floorTool === 'xxhsum' ? 'floor: xxhsum -H1 (XXH64) of the source' : 'floor: cat source > /dev/null (no xxhsum)';
  const FERRY_INC = (label: string) => `ferry incremental ${label}`;
  const RSYNC = (label: string) => `rsync --inplace --no-whole-file ${label}`;

  // -- full copy (each Ferry full cycle empties the target first; each cp makes a new file)
  for (let r = 1; r <= REPEAT; r++) {
    log(`\nfull copy${times(`run ${r}`)}`);
    const full = await runCycle('full');
    record(FERRY_FULL, full.seconds, describe(full));
    await expectSame(target, source, 'ferry full cycle');
    await rm(cpCopy, { force: true });
    await prepare(source);
    record(CP, await timed('cp', ['--sparse=always', source, cpCopy]));
    await expectSame(cpCopy, source, 'cp --sparse=always');
  }
  // for the reader: cp when it, too, must reach the disk (Ferry datasyncs as it goes)
  await rm(cpCopy);
  await prepare(source);
  record(CP_SYNC, (await timed('cp', ['--sparse=always', source, cpCopy])) + (await timed('sync', [cpCopy])));
  await expectSame(cpCopy, source, 'cp --sparse=always + sync');

  // -- the floor: read and hash the source once
  log('\nfloor');
  for (let r = 1; r <= REPEAT; r++) {
    await prepare(source);
    record(FLOOR, floorTool === 'xxhsum' ? await timed('xxhsum', ['-H1', source]) : await timed('cat', [source]));
  }

  // -- incrementals: each run rewrites blocks anew; the rsync target is always one state behind
  const incremental = async (share: number, label: string) => {
    for (let r = 1; r <= REPEAT; r++) {
      log(`\nincremental after rewriting ${label} of the blocks${times(`run ${r}`)}`);
      const changed = await rewriteShare(source, share);
      log(`  rewrote ${changed.length} blocks`);
      const inc = await runCycle('incremental');
      record(FERRY_INC(label), inc.seconds, describe(inc));
      await expectSame(target, source, `ferry incremental ${label}`);
      await prepare(source);
      // --ignore-times: the source and its copy can share size and mtime (second granularity) when
      // runs are quick, and rsync's quick check would then skip the file instead of transferring it
      record(RSYNC(label), await timed('rsync', ['--inplace', '--no-whole-file', '--ignore-times', source, cpCopy]));
      await expectSame(cpCopy, source, `rsync ${label}`);
    }
    return { ferry: measured(FERRY_INC(label)), rsync: measured(RSYNC(label)) };
  };
  const one = await incremental(0.01, '1 %');
  const ten = await incremental(0.1, '10 %');
  const full_s = measured(FERRY_FULL);
  const cp_sparse_s = measured(CP);
  const cpSync = measured(CP_SYNC);
  const floor_s = measured(FLOOR);

  // -- the table
  const result = {
    full_s: round(full_s),
    cp_sparse_s: round(cp_sparse_s),
    incremental_1pct_s: round(one.ferry),
    incremental_10pct_s: round(ten.ferry),
    rsync_1pct_s: round(one.rsync),
    rsync_10pct_s: round(ten.rsync),
    floor_s: round(floor_s),
  };
  log(`\nResults, ${SIZE_MB} MiB image (MB/s = image size in 10^6 bytes / wall seconds; every run reads the source from the page cache)`);
  const width = Math.max(...[...rows.keys()].map((what) => what.length));
  log(`  ${'run'.padEnd(width)}  ${(REPEAT > 1 ? 'median s' : 'wall s').padStart(8)}  ${'MB/s'.padStart(7)}${REPEAT > 1 ? '  all runs, s' : ''}`);
  for (const [what, values] of rows) {
    const m = median(values);
    log(`  ${what.padEnd(width)}  ${m.toFixed(3).padStart(8)}  ${mbps(m).padStart(7)}${values.length > 1 ? `  ${values.map((v) => v.toFixed(3)).join(' ')}` : ''}`);
  }
  log('\nAgainst the targets');
  const check = (what: string, ratio: number, ok: boolean, goal: string) => log(`  ${ok ? 'MET   ' : 'MISSED'}  ${what}: ${ratio.toFixed(2)}× (target ${goal})`);
  check('incremental 1 %: rsync time / ferry time', one.rsync / one.ferry, one.rsync / one.ferry >= 5, '≥ 5×');
  check('incremental 1 %: ferry time / floor', one.ferry / floor_s, one.ferry / floor_s <= 1.5, '≤ 1.5×');
  check('full copy: ferry time / cp --sparse=always', full_s / cp_sparse_s, full_s / cp_sparse_s <= 1.5, '≤ 1.5×');
  log(`  (informative) incremental 10 %: rsync / ferry ${(ten.rsync / ten.ferry).toFixed(2)}×; full copy: ferry / (cp + sync) ${(full_s / cpSync).toFixed(2)}×`);
  log(`  floor measured with ${floorTool === 'xxhsum' ? 'xxhsum -H1' : 'cat (xxhsum is not installed)'}`);
  if (ticksAtStart) {
    // how much CPU went to other programs while this ran: they make the figures noisy
    const [now, ours] = await Promise.all([systemTicks(), ourTicks()]);
    const others = Math.max(0, now.busy - ticksAtStart[0].busy - (ours - ticksAtStart[1]));
    const share = others / Math.max(1, now.total - ticksAtStart[0].total);
    log(`  CPU time not accounted to the benchmark's processes (other programs, kernel writeback) during the run: ${(share * 100).toFixed(0)} % of all CPUs${share > 0.05 ? ' (the figures are noisy)' : ''}`);
  }
  log(JSON.stringify(result));
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  process.stderr.write(`\nbench:transport FAILED: ${(err as Error).stack ?? err}\n`);
  for (const { name, proc } of outputs) {
    const state = proc.proc.exitCode !== null || proc.proc.signalCode !== null ? `exited (${proc.proc.exitCode ?? proc.proc.signalCode})` : 'running';
    process.stderr.write(`--- ferry ${name} (${state}), last output ---\n${proc.output().slice(-4000)}\n`);
  }
} finally {
  await cleanup();
}
process.exitCode = failed ? 1 : 0;
