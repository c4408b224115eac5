import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { HashTable } from '../blocks.js';

export interface TargetMeta {
  targetPath: string;
  sizeBytes: number;
  blockSize: number;
  /** true only after a cycle ended with the target's digest equal to the source's */
  consistent: boolean;
  digest?: string;
  lastCycleId?: string;
}

/** Writes a file so that after a crash it holds either the old or the new content, never a mix. */
async function writeDurably(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Contiguous runs of sorted, distinct indices: [first, count]. */
function runsOf(indices: number[]): [number, number][] {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const i of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === i) last[1]++;
    else runs.push([i, 1]);
  }
  return runs;
}

/**
 * What the transport knows about one target device: its geometry, whether it is consistent,
 * and the hash of every block it holds. The table is the truth the next cycle compares against,
 * so it may say "unknown" (0) but must never claim a block the device does not hold.
 *
 * The table is saved whole (temp file, rename) when created; checkpoints during a cycle rewrite
 * only the entries that changed, in place, then fdatasync. A torn checkpoint is harmless: each
 * 8-byte entry lies within one sector and holds either its old or its new value, and both are
 * true of the device at that moment (intend runs before the blocks are written, commit after).
 */
export class TargetRecord {
  /** the meta as last written, so that checkpoints only rewrite it when it changed */
  private savedMeta = '';
  private hashesHandle?: FileHandle;

  private constructor(
    private readonly file: string,
    public meta: TargetMeta,
    public table: HashTable,
  ) {}

  static fileFor(stateDir: string, targetPath: string): string {
    return path.join(stateDir, 'targets', createHash('sha256').update(targetPath).digest('hex').slice(0, 24));
  }

  static async load(stateDir: string, targetPath: string): Promise<TargetRecord | undefined> {
    const file = TargetRecord.fileFor(stateDir, targetPath);
    try {
      const text = await readFile(`${file}.json`, 'utf8');
      const record = new TargetRecord(file, JSON.parse(text) as TargetMeta, HashTable.fromBytes(await readFile(`${file}.hashes`)));
      record.savedMeta = JSON.stringify(record.meta);
      return record;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  static async create(stateDir: string, meta: TargetMeta, table: HashTable): Promise<TargetRecord> {
    const file = TargetRecord.fileFor(stateDir, meta.targetPath);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const record = new TargetRecord(file, meta, table);
    await writeDurably(`${file}.hashes`, table.toBytes());
    await record.saveMeta();
    return record;
  }

  /** Writes the meta durably, when it differs from what was last written. */
  private async saveMeta(): Promise<void> {
    const meta = JSON.stringify(this.meta);
    if (meta === this.savedMeta) return;
    await writeDurably(`${this.file}.json`, meta);
    this.savedMeta = meta;
  }

  /** Rewrites the given entries of the hashes file in place and makes them durable. */
  private async writeEntries(indices: number[]): Promise<void> {
    if (indices.length === 0) return;
    this.hashesHandle ??= await open(`${this.file}.hashes`, 'r+');
    for (const [first, count] of runsOf(indices)) {
      const bytes = this.table.entryBytes(first, count);
      await this.hashesHandle.write(bytes, 0, bytes.length, first * 8);
    }
    await this.hashesHandle.datasync();
  }

  /** Before blocks are written: forget their hashes, and the target's consistency, durably. */
  async intend(indices: number[]): Promise<void> {
    const known = indices.filter((i) => this.table.hashes[i] !== 0n);
    for (const i of known) this.table.hashes[i] = 0n;
    this.meta.consistent = false;
    this.meta.digest = undefined;
    await this.saveMeta();
    await this.writeEntries(known);
  }

  /** After the written blocks reached the device (fdatasync): record what it now holds. */
  async commit(entries: [index: number, hash: bigint][]): Promise<void> {
    for (const [i, h] of entries) this.table.hashes[i] = h;
    await this.writeEntries(entries.map(([i]) => i));
  }

  /** Ends a cycle whose digest matched: every entry is already durable, only the meta changes. */
  async markConsistent(digest: string, cycleId: string): Promise<void> {
    this.meta = { ...this.meta, consistent: true, digest, lastCycleId: cycleId };
    await this.saveMeta();
  }

  async close(): Promise<void> {
    await this.hashesHandle?.close();
    this.hashesHandle = undefined;
  }
}
