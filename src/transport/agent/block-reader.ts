import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';
import { blockCount, blockHash, encodeFrameHeader, HashTable, isZeroBlock } from '../blocks.js';
import { diskSizeBytes } from '../disk/disk-size.js';
import { sharedBufferPool } from '../frame-reader.js';
import { FRAME_COMPRESSED, FrameType, type ProtocolError, type ReadSummary } from '../protocol.js';

const deflate = promisify(deflateRaw);
/** Reads kept in flight ahead of the one being sent, so the disk never waits on the network. */
const READ_AHEAD = 4;
const SCAN_EVERY = 64;

export interface ReadOptions {
  blockSize: number;
  known?: HashTable;
  compress: boolean;
  /**
   * called with each frame to send; resolves when the receiver can take more. The frame's
   * buffers are the reader's again once it resolves: a `send` that keeps them must copy them.
   */
  send: (frame: Buffer[]) => Promise<void>;
  /** true once the receiver went away: stop reading */
  aborted: () => boolean;
}

/**
 * Reads the disk once, in order, and sends the blocks whose hash differs from `known`
 * (all-zero blocks as bodiless Zero frames), then an End frame whose digest covers every block.
 */
export async function streamChangedBlocks(diskPath: string, opts: ReadOptions): Promise<ReadSummary | undefined> {
  const handle = await open(diskPath, 'r');
  const ahead: Promise<{ block?: Buffer; buf: Buffer; bytesRead: number; length: number }>[] = [];
  try {
    const size = await diskSizeBytes(handle, diskPath);
    const blocks = blockCount(size, opts.blockSize);
    if (opts.known && opts.known.length !== blocks) {
      await sendError(opts, 0, 'bad-request', `knownHashes has ${opts.known.length} entries; the disk has ${blocks} blocks of ${opts.blockSize} bytes`);
      return undefined;
    }
    const all = HashTable.unknown(blocks);
    const summary = { sizeBytes: size, blocks, sentBlocks: 0, zeroBlocks: 0, unchangedBlocks: 0 };
    // Block buffers are used again, not allocated per block: READ_AHEAD reads in flight plus the
    // block being sent. A fresh 1 MiB buffer per block costs page faults and, as V8 counts it as
    // external memory, a full garbage collection every few dozen blocks.
    const pool = sharedBufferPool(opts.blockSize, 4 * (READ_AHEAD + 1));
    const readBlock = async (index: number) => {
      const length = Math.min(opts.blockSize, size - index * opts.blockSize);
      const { buf, owned: block } = pool.take(length);
      const { bytesRead } = await handle.read(buf, 0, length, index * opts.blockSize);
      return { block, buf, bytesRead, length };
    };
    const queue = (index: number) => {
      const read = readBlock(index);
      read.catch(() => undefined); // awaited in turn; never an unhandled rejection if we stop early
      ahead.push(read);
    };
    for (let i = 0; i < Math.min(READ_AHEAD, blocks); i++) queue(i);
    for (let index = 0; index < blocks; index++) {
      if (opts.aborted()) return undefined;
      let read;
      try {
        read = await ahead.shift()!;
      } catch (err) {
        await sendError(opts, index, 'read-error', `reading block ${index} of ${diskPath} failed: ${(err as Error).message}`);
        return undefined;
      }
      if (index + READ_AHEAD < blocks) queue(index + READ_AHEAD);
      try {
        if (read.bytesRead < read.length) {
          await sendError(opts, index, 'disk-vanished', `${diskPath} ended at block ${index}: the disk shrank or went away during the read`);
          return undefined;
        }
        const hash = blockHash(read.buf);
        all.hashes[index] = hash;
        if (opts.known && opts.known.hashes[index] === hash) {
          summary.unchangedBlocks++;
          // tell the receiver how far the scan got, so progress moves while nothing changes
          if (index % SCAN_EVERY === SCAN_EVERY - 1) await opts.send([encodeFrameHeader({ type: FrameType.Scan, flags: 0, index: index + 1, hash: 0n, payloadBytes: 0 })]);
          continue;
        }
        if (isZeroBlock(read.buf)) {
          summary.zeroBlocks++;
          await opts.send([encodeFrameHeader({ type: FrameType.Zero, flags: 0, index, hash, payloadBytes: 0 })]);
          continue;
        }
        let payload = read.buf;
        let flags = 0;
        if (opts.compress) {
          const packed = await deflate(read.buf, { level: 1 });
          if (packed.length < read.buf.length) {
            payload = packed;
            flags = FRAME_COMPRESSED;
          }
        }
        summary.sentBlocks++;
        await opts.send([encodeFrameHeader({ type: FrameType.Data, flags, index, hash, payloadBytes: payload.length }), payload]);
      } finally {
        pool.give(read.block); // sent (send has resolved) or not sent: ours again
      }
    }
    const end: ReadSummary = { ...summary, digest: all.digest() };
    const json = Buffer.from(JSON.stringify(end));
    await opts.send([encodeFrameHeader({ type: FrameType.End, flags: 0, index: blocks, hash: 0n, payloadBytes: json.length }), json]);
    return end;
  } finally {
    await Promise.allSettled(ahead);
    await handle.close();
  }
}

async function sendError(opts: ReadOptions, index: number, error: string, message: string): Promise<void> {
  const body: ProtocolError & { index: number } = { error, message, index };
  const json = Buffer.from(JSON.stringify(body));
  await opts.send([encodeFrameHeader({ type: FrameType.Error, flags: 0, index, hash: 0n, payloadBytes: json.length }), json]);
}
