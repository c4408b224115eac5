import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_BLOCK_SIZE, type CycleRequest, type CycleStatus, type DiskResult, type TransportEventBody, type TransportFailure, type WorkState } from '../protocol.js';
import { AgentFailure, agentSource, type AgentClients } from './agent-client.js';
import { BandwidthCap } from './bandwidth-cap.js';
import type { BlockSource } from './block-source.js';
import { datastoreSource } from './datastore-source.js';
import { CycleCancelled, CycleFailure, runDiskCycle } from './disk-cycle.js';

interface CycleEntry {
  request: CycleRequest;
  status: CycleStatus;
  abort: AbortController;
  done?: Promise<void>;
}

export type StartOutcome = 'started' | 'exists' | { refused: string };

const PROGRESS_EVERY_MS = 1_000;
/**
 * Ended cycles are kept (in status, and as files) for a week, at most this many: long enough for
 * a controller to collect the outcome after any outage, and a repeated start of the same cycleId
 * within that time stays a no-op.
 */
const KEEP_ENDED_MS = 7 * 24 * 3600 * 1000;
const KEEP_ENDED_MAX = 1000;

/**
 * Runs sync cycles: at most one per task, at most `maxTasks` tasks at once. Every cycle is kept
 * in a file while it runs, so a transport that crashed resumes it at start from what was written.
 */
export class CycleManager {
  private readonly entries = new Map<string, CycleEntry>();

  constructor(
    private readonly stateDir: string,
    private readonly agents: AgentClients,
    private readonly emit: (event: TransportEventBody) => Promise<unknown>,
    private readonly busyTasks: () => Set<string>,
    private readonly maxTasks: number,
    private readonly log: (msg: string) => void,
  ) {}

  private dir(): string {
    return path.join(this.stateDir, 'cycles');
  }

  /** Cycles that were running when the transport stopped start again, keeping what they wrote. */
  async resumeInterrupted(): Promise<number> {
    await mkdir(this.dir(), { recursive: true, mode: 0o700 });
    let resumed = 0;
    for (const name of await readdir(this.dir())) {
      if (!name.endsWith('.json')) continue;
      const saved = JSON.parse(await readFile(path.join(this.dir(), name), 'utf8')) as { request: CycleRequest; status: CycleStatus };
      const entry = this.entry(saved.request, saved.status);
      if (saved.status.state === 'running') {
        this.log(`resuming cycle ${saved.request.cycleId} of task ${saved.request.taskId}`);
        entry.done = this.run(entry, true);
        resumed++;
      }
    }
    await this.pruneEnded();
    return resumed;
  }

  /** Forgets ended cycles older than KEEP_ENDED_MS, and the oldest beyond KEEP_ENDED_MAX. */
  private async pruneEnded(now = Date.now()): Promise<void> {
    const ended = [...this.entries.values()]
      .filter((e) => e.status.state !== 'running')
      .sort((a, b) => (a.status.endedAt ?? '').localeCompare(b.status.endedAt ?? ''));
    const excess = ended.length - KEEP_ENDED_MAX;
    for (const [i, entry] of ended.entries()) {
      const endedAt = Date.parse(entry.status.endedAt ?? '');
      if (i >= excess && now - endedAt <= KEEP_ENDED_MS) continue;
      this.entries.delete(entry.request.cycleId);
      await rm(this.fileOf(entry.request.cycleId), { force: true });
    }
  }

  private fileOf(cycleId: string): string {
    return path.join(this.dir(), `${cycleId}.json`);
  }

  private entry(request: CycleRequest, status?: CycleStatus): CycleEntry {
    const entry: CycleEntry = {
      request,
      abort: new AbortController(),
      status: status ?? {
        cycleId: request.cycleId,
        taskId: request.taskId,
        kind: request.kind,
        state: 'running',
        startedAt: new Date().toISOString(),
        disks: request.disks.map((d) => ({ disk: d.disk, targetPath: d.targetPath, sizeBytes: 0, scannedBytes: 0, sentBlocks: 0, zeroBlocks: 0, unchangedBlocks: 0, wireBytes: 0, writtenBytes: 0 })),
        rateBytesPerSec: 0,
      },
    };
    this.entries.set(request.cycleId, entry);
    return entry;
  }

  /** Tasks with a running cycle. */
  runningTasks(): Set<string> {
    return new Set([...this.entries.values()].filter((e) => e.status.state === 'running').map((e) => e.request.taskId));
  }

  async start(request: CycleRequest): Promise<StartOutcome> {
    if (this.entries.has(request.cycleId)) return 'exists';
    const busy = this.busyTasks();
    if (this.runningTasks().has(request.taskId)) return { refused: `a cycle of task ${request.taskId} is already running` };
    if (!busy.has(request.taskId) && busy.size >= this.maxTasks) {
      return { refused: `this transport already runs ${busy.size} tasks, its maximum (MaxSupportedTasks ${this.maxTasks})` };
    }
    const entry = this.entry(request);
    await this.save(entry);
    entry.done = this.run(entry, false);
    return 'started';
  }

  cancel(cycleId: string): boolean {
    const entry = this.entries.get(cycleId);
    if (!entry || entry.status.state !== 'running') return false;
    entry.abort.abort();
    return true;
  }

  status(): CycleStatus[] {
    return [...this.entries.values()].map((e) => e.status);
  }

  get(cycleId: string): CycleStatus | undefined {
    return this.entries.get(cycleId)?.status;
  }

  /** Stops running cycles without marking them ended: the next start resumes them. */
  async stopAll(): Promise<void> {
    const running = [...this.entries.values()].filter((e) => e.status.state === 'running');
    for (const entry of running) entry.abort.abort('shutdown');
    await Promise.allSettled(running.map((e) => e.done));
  }

  private async run(entry: CycleEntry, resume: boolean): Promise<void> {
    const { request, status } = entry;
    const started = Date.now();
    const cap = request.qosMBps ? new BandwidthCap(request.qosMBps * 1_000_000) : undefined;
    let lastEmit = started;
    let lastWire = 0;
    let samples = 0;
    const onProgress = () => {
      const now = Date.now();
      if (now - lastEmit < PROGRESS_EVERY_MS) return;
      const wire = status.disks.reduce((n, d) => n + d.wireBytes, 0);
      const sample = ((wire - lastWire) * 1000) / (now - lastEmit);
      // smoothed, so one slow or fast second does not swing the estimate
      status.rateBytesPerSec = Math.round(samples++ ? 0.6 * status.rateBytesPerSec + 0.4 * sample : sample);
      lastEmit = now;
      lastWire = wire;
      void this.emit({ type: 'cycle.progress', taskId: request.taskId, cycleId: request.cycleId, progress: structuredClone(status) }).catch(() => undefined);
    };
    try {
      const source = this.sourceOf(request);
      const sizes = await source.sizes(request.disks).catch((err) => {
        throw new CycleFailure(source.classify(err));
      });
      const results: DiskResult[] = [];
      for (const [i, disk] of request.disks.entries()) {
        const size = sizes.find((d) => d.path === disk.disk);
        if (!size) throw new CycleFailure({ cause: 'disk-vanished', message: `${source.name} no longer has disk ${disk.disk}`, disk: disk.disk, retryable: true });
        status.disks[i] = { ...status.disks[i], sizeBytes: size.sizeBytes, scannedBytes: 0, sentBlocks: 0, zeroBlocks: 0, unchangedBlocks: 0, wireBytes: 0, writtenBytes: 0 };
        results.push(
          await runDiskCycle({
            stateDir: this.stateDir,
            source,
            cycleId: request.cycleId,
            kind: request.kind,
            resume,
            disk,
            sourceSizeBytes: size.sizeBytes,
            blockSize: request.blockSize ?? DEFAULT_BLOCK_SIZE,
            compress: request.compress ?? false,
            cap,
            signal: entry.abort.signal,
            progress: status.disks[i],
            onProgress,
          }),
        );
      }
      // the event is durable in the outbox before the cycle is marked ended: a crash in between
      // resumes the cycle (all blocks unchanged) and reports it again, never loses the report
      await this.emit({ type: 'cycle.finished', taskId: request.taskId, cycleId: request.cycleId, kind: request.kind, durationMs: Date.now() - started, disks: results });
      await this.end(entry, 'finished');
    } catch (err) {
      if (entry.abort.signal.reason === 'shutdown') return; // left 'running' on disk: resumed at next start
      if (err instanceof CycleCancelled || entry.abort.signal.aborted) {
        await this.emit({ type: 'cycle.cancelled', taskId: request.taskId, cycleId: request.cycleId });
        await this.end(entry, 'cancelled');
        return;
      }
      const failure: TransportFailure =
        err instanceof CycleFailure || err instanceof AgentFailure ? err.failure : { cause: 'internal', message: (err as Error).message, retryable: true };
      if (!(err instanceof CycleFailure || err instanceof AgentFailure)) this.log(`cycle ${request.cycleId} failed: ${(err as Error).stack}`);
      status.error = failure;
      await this.emit({ type: 'cycle.failed', taskId: request.taskId, cycleId: request.cycleId, failure });
      await this.end(entry, 'failed');
    }
  }

  private sourceOf(request: CycleRequest): BlockSource {
    return request.agentAddr ? agentSource(this.agents, request.agentAddr) : datastoreSource(request);
  }

  private async end(entry: CycleEntry, state: WorkState): Promise<void> {
    entry.status.state = state;
    entry.status.endedAt = new Date().toISOString();
    await this.save(entry);
    await this.pruneEnded();
  }

  private async save(entry: CycleEntry): Promise<void> {
    await mkdir(this.dir(), { recursive: true, mode: 0o700 });
    const file = this.fileOf(entry.request.cycleId);
    await writeFile(`${file}.tmp`, JSON.stringify({ request: entry.request, status: entry.status }), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
}
