import type { FileHandle } from 'node:fs/promises';
import type { TargetRecord } from './target-record.js';

export interface PendingBlock {
  index: number;
  hash: bigint;
  data: Buffer;
  /** the pool buffer `data` lies in, given back once written */
  owned?: Buffer;
}

/** Most blocks written between two checkpoints. */
const MAX_BATCH = 64;
/** Most blocks waiting while a batch is written: with it, what a cycle holds in memory. */
export const WRITER_MAX_QUEUED = 64;
/** Fewest blocks worth a checkpoint (two fdatasyncs of the record, one of the target)... */
const MIN_BATCH = 16;
/** ...unless the first of them has waited this long, or the stream ended. */
const MAX_DELAY_MS = 1_000;

/**
 * Writes received blocks into the target while the next ones arrive (group commit): each batch
 * is what arrived while the previous one was being written, bounded by MAX_BATCH; a trickle of
 * changed blocks is gathered into batches of MIN_BATCH, or what came within MAX_DELAY_MS. A batch is
 * checkpointed around its writes (intend, write, fdatasync, commit), so the record never claims
 * a block the device does not hold. `add` waits while `maxQueued` blocks are waiting, which
 * bounds the memory a cycle holds and slows the sender down to the target's speed.
 */
export class BlockWriter {
  private queue: PendingBlock[] = [];
  private running?: Promise<void>;
  private failure?: unknown;
  private spaceWaiters: (() => void)[] = [];
  /** write what is queued even if it is less than MIN_BATCH */
  private flushRequested = false;
  private timer?: NodeJS.Timeout;
  private disposed = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly record: TargetRecord,
    private readonly blockSize: number,
    private readonly onWritten: (blocks: PendingBlock[]) => void,
    /** turns an error of writing the target into the cycle's failure */
    private readonly mapError: (err: unknown) => unknown,
    private readonly maxQueued = WRITER_MAX_QUEUED,
  ) {}

  /** Queues a block; resolves once there is room for the next one. Throws the writer's failure. */
  async add(block: PendingBlock): Promise<void> {
    if (this.failure) throw this.failure;
    this.queue.push(block);
    this.kick();
    while (this.queue.length >= this.maxQueued && !this.failure && !this.disposed) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  /** Resolves once every queued block is written and checkpointed. Throws the writer's failure. */
  async drain(): Promise<void> {
    this.kick(true);
    while (this.running) await this.running;
    if (this.failure) throw this.failure;
  }

  /** Stops writing: what is still queued is dropped (the cycle is over, its target closed). */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.wakeSenders();
  }

  private get batchReady(): boolean {
    return this.queue.length >= MIN_BATCH || (this.flushRequested && this.queue.length > 0);
  }

  /** Starts the writer when a batch is ready, else makes sure a lone block waits no longer than MAX_DELAY_MS. */
  private kick(flush = false): void {
    if (flush) this.flushRequested = true;
    if (this.running || this.disposed || this.failure || this.queue.length === 0) return;
    if (this.batchReady) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.running = this.writeQueued();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.kick(true);
      }, MAX_DELAY_MS);
    }
  }

  private async writeQueued(): Promise<void> {
    try {
      while (this.batchReady && !this.failure && !this.disposed) {
        const batch = this.queue.splice(0, MAX_BATCH);
        if (this.queue.length === 0) this.flushRequested = false;
        this.wakeSenders();
        await this.writeBatch(batch);
        this.onWritten(batch);
      }
    } catch (err) {
      this.failure = err;
      this.wakeSenders();
    } finally {
      this.running = undefined;
    }
    this.kick();
  }

  private async writeBatch(blocks: PendingBlock[]): Promise<void> {
    await this.record.intend(blocks.map((b) => b.index));
    try {
      for (const b of blocks) await this.handle.write(b.data, 0, b.data.length, b.index * this.blockSize);
      await this.handle.datasync();
    } catch (err) {
      throw this.mapError(err);
    }
    await this.record.commit(blocks.map((b) => [b.index, b.hash]));
  }

  private wakeSenders(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }
}
