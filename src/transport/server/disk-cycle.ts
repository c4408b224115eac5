import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { inflateRaw } from 'node:zlib';
import { blockCount, blockHash, HashTable, zeroBlockHash } from '../blocks.js';
import { sharedBufferPool } from '../frame-reader.js';
import { diskSizeBytes } from '../disk/disk-size.js';
import { FRAME_COMPRESSED, FrameType, type CycleDisk, type CycleKind, type DiskProgress, type DiskResult, type ProtocolError, type ReadSummary, type TransportFailure } from '../protocol.js';
import type { BandwidthCap } from './bandwidth-cap.js';
import type { BlockSource } from './block-source.js';
import { BlockWriter, WRITER_MAX_QUEUED } from './block-writer.js';
import { TargetRecord } from './target-record.js';

const inflate = promisify(inflateRaw);

export class CycleFailure extends Error {
  constructor(readonly failure: TransportFailure) {
    super(failure.message);
  }
}

export class CycleCancelled extends Error {}

export interface DiskCycleInput {
  stateDir: string;
  source: BlockSource;
  cycleId: string;
  kind: CycleKind;
  /** true when the cycle was interrupted and is being run again: never reset what was written */
  resume: boolean;
  disk: CycleDisk;
  sourceSizeBytes: number;
  blockSize: number;
  compress: boolean;
  cap?: BandwidthCap;
  signal: AbortSignal;
  progress: DiskProgress;
  onProgress: () => void;
}

/** Opens (or creates, for a file) the target, at least as large as the source. */
async function openTarget(targetPath: string, sizeBytes: number): Promise<{ handle: FileHandle; isFile: boolean }> {
  const handle = await open(targetPath, 'r+').catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    return open(targetPath, 'w+', 0o600);
  });
  const stat = await handle.stat();
  if (stat.isFile()) {
    if (stat.size < sizeBytes) await handle.truncate(sizeBytes);
    return { handle, isFile: true };
  }
  const size = await diskSizeBytes(handle, targetPath);
  if (size < sizeBytes) {
    await handle.close();
    throw new CycleFailure({ cause: 'target-too-small', message: `target ${targetPath} holds ${size} bytes; the source disk has ${sizeBytes}`, disk: targetPath, retryable: false });
  }
  return { handle, isFile: false };
}

function zeroTable(sizeBytes: number, blockSize: number): HashTable {
  const blocks = blockCount(sizeBytes, blockSize);
  const table = HashTable.unknown(blocks);
  const full = zeroBlockHash(blockSize);
  for (let i = 0; i < blocks; i++) table.hashes[i] = i === blocks - 1 ? zeroBlockHash(sizeBytes - i * blockSize) : full;
  return table;
}

/** The record to compare against: reset for a fresh full cycle, kept for incrementals and resumes. */
async function prepareRecord(input: DiskCycleInput, handle: FileHandle, isFile: boolean): Promise<TargetRecord> {
  const { stateDir, disk, sourceSizeBytes: size, blockSize } = input;
  const existing = await TargetRecord.load(stateDir, disk.targetPath);
  const sameGeometry = existing && existing.meta.sizeBytes === size && existing.meta.blockSize === blockSize;
  if (sameGeometry && (input.resume || input.kind === 'incremental')) return existing;
  const meta = { targetPath: disk.targetPath, sizeBytes: size, blockSize, consistent: false };
  if (isFile) {
    // a fresh full copy into a file: empty it, so zero blocks stay holes and need no writing
    const fileSize = (await handle.stat()).size;
    await handle.truncate(0);
    await handle.truncate(Math.max(size, fileSize));
    await handle.sync();
    return TargetRecord.create(stateDir, meta, zeroTable(size, blockSize));
  }
  return TargetRecord.create(stateDir, meta, HashTable.unknown(blockCount(size, blockSize)));
}

/** Pulls one disk from its source (agent or datastore) into its target; returns the counts and the verified digest. */
export async function runDiskCycle(input: DiskCycleInput): Promise<DiskResult> {
  const { disk, blockSize, progress } = input;
  const size = input.sourceSizeBytes;
  const { handle, isFile } = await openTarget(disk.targetPath, size).catch((err) => {
    if (err instanceof CycleFailure) throw err;
    throw new CycleFailure({ cause: 'write-error', message: `cannot open target ${disk.targetPath}: ${(err as Error).message}`, disk: disk.disk, retryable: true });
  });
  let record: TargetRecord | undefined;
  let writer: BlockWriter | undefined;
  try {
    record = await prepareRecord(input, handle, isFile);
    const pool = sharedBufferPool(blockSize, 2 * WRITER_MAX_QUEUED);
    const zeros = Buffer.alloc(blockSize);
    writer = new BlockWriter(
      handle,
      record,
      blockSize,
      (blocks) => {
        progress.writtenBytes += blocks.reduce((n, b) => n + b.data.length, 0);
        for (const b of blocks) pool.give(b.owned);
        input.onProgress();
      },
      (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        return new CycleFailure({
          cause: code === 'ENOSPC' ? 'target-full' : 'write-error',
          message: code === 'ENOSPC' ? `target ${disk.targetPath} is full (ENOSPC)` : `writing ${disk.targetPath} failed: ${(err as Error).message}`,
          disk: disk.disk,
          retryable: true,
        });
      },
    );

    let stream;
    try {
      stream = await input.source.open({ disk, blockSize, known: record.table, compress: input.compress, pool, signal: input.signal });
    } catch (err) {
      if (input.signal.aborted) throw new CycleCancelled();
      if (err instanceof CycleFailure) throw err;
      throw new CycleFailure(input.source.classify(err));
    }
    let summary: ReadSummary | undefined;
    try {
      for await (const { header, payload, owned, wireBytes } of stream) {
        await input.cap?.take(wireBytes, input.signal);
        if (input.signal.aborted) throw new CycleCancelled();
        progress.wireBytes += wireBytes;
        if (header.type === FrameType.Scan) {
          progress.scannedBytes = Math.min(size, header.index * blockSize);
        } else if (header.type === FrameType.Data || header.type === FrameType.Zero) {
          const length = Math.min(blockSize, size - header.index * blockSize);
          const compressed = header.type === FrameType.Data && (header.flags & FRAME_COMPRESSED) !== 0;
          // zero blocks are all written from one read-only buffer
          const data = header.type === FrameType.Zero ? zeros.subarray(0, length) : compressed ? await inflate(payload) : payload;
          if (compressed) pool.give(owned);
          if (data.length !== length || blockHash(data) !== header.hash) {
            throw new CycleFailure({ cause: input.source.lostCause, message: `block ${header.index} of ${disk.disk} arrived corrupted`, disk: disk.disk, retryable: true });
          }
          if (header.type === FrameType.Zero) progress.zeroBlocks++;
          else progress.sentBlocks++;
          progress.scannedBytes = Math.min(size, (header.index + 1) * blockSize);
          await writer.add({ index: header.index, hash: header.hash, data, owned: compressed ? undefined : owned });
        } else if (header.type === FrameType.Error) {
          const detail = JSON.parse(payload.toString('utf8')) as ProtocolError;
          await writer.drain();
          throw new CycleFailure({ cause: detail.error === 'disk-vanished' ? 'disk-vanished' : 'read-error', message: `${input.source.name}: ${detail.message}`, disk: disk.disk, retryable: true });
        } else if (header.type === FrameType.End) {
          summary = JSON.parse(payload.toString('utf8')) as ReadSummary;
          pool.give(owned);
        }
        input.onProgress();
      }
    } catch (err) {
      // blocks already received and checked are kept, so a retry or a resume need not fetch them again
      const writeFailed = err instanceof CycleFailure && (err.failure.cause === 'target-full' || err.failure.cause === 'write-error');
      if (!writeFailed) await writer.drain().catch(() => undefined);
      if (input.signal.aborted) throw new CycleCancelled();
      if (err instanceof CycleFailure || err instanceof CycleCancelled) throw err;
      // a connection that broke mid-way is a lost source; a refusal (a later range's ticket) stays one
      const failure = input.source.classify(err);
      const lost = failure.cause === 'agent-unreachable' || failure.cause === 'datastore-unreachable' || failure.cause === 'agent-lost';
      throw new CycleFailure({ ...failure, cause: lost ? input.source.lostCause : failure.cause, disk: disk.disk });
    }
    await writer.drain();
    if (!summary) {
      throw new CycleFailure({ cause: input.source.lostCause, message: `the stream of ${disk.disk} from ${input.source.name} ended before the end of the disk`, disk: disk.disk, retryable: true });
    }
    progress.scannedBytes = size;
    progress.unchangedBlocks = summary.unchangedBlocks;
    const digest = record.table.digest();
    if (digest !== summary.digest) {
      throw new CycleFailure({ cause: 'verification-failed', message: `target ${disk.targetPath} does not match ${disk.disk} after the cycle (digest ${digest} ≠ ${summary.digest})`, disk: disk.disk, retryable: true });
    }
    await record.markConsistent(digest, input.cycleId);
    return {
      disk: disk.disk,
      targetPath: disk.targetPath,
      sizeBytes: size,
      blocks: summary.blocks,
      sentBlocks: progress.sentBlocks,
      zeroBlocks: progress.zeroBlocks,
      unchangedBlocks: summary.unchangedBlocks,
      wireBytes: progress.wireBytes,
      writtenBytes: progress.writtenBytes,
      digest,
    };
  } finally {
    writer?.dispose();
    await record?.close();
    await handle.close();
  }
}

