import { createHash } from 'node:crypto';
import { xxh64 } from '@node-rs/xxhash';
import { FRAME_HEADER_BYTES, type FrameHeader, FrameType } from './protocol.js';

/**
 * Block hashes are xxh64 (measured at ~22 GB/s here, against ~2 GB/s for sha256): fast enough
 * that hashing never costs more than reading the disk. 0 in a hash table means "unknown".
 */
export const blockHash = (block: Buffer): bigint => xxh64(block) || 1n;

const zeroBuffers = new Map<number, Buffer>();
function zeros(length: number): Buffer {
  let buf = zeroBuffers.get(length);
  if (!buf) {
    buf = Buffer.alloc(length);
    zeroBuffers.set(length, buf);
  }
  return buf;
}

export const isZeroBlock = (block: Buffer): boolean => block.equals(zeros(block.length));

/** The hash of an all-zero block of that length (the last block of a disk may be short). */
export const zeroBlockHash = (length: number): bigint => blockHash(zeros(length));

export const blockCount = (sizeBytes: number, blockSize: number): number => Math.ceil(sizeBytes / blockSize);

/** Hashes of the blocks of one disk, in order. */
export class HashTable {
  constructor(readonly hashes: BigUint64Array) {}

  static unknown(blocks: number): HashTable {
    return new HashTable(new BigUint64Array(blocks));
  }

  static fromBase64(text: string, blocks: number): HashTable | undefined {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length !== blocks * 8) return undefined;
    return HashTable.fromBytes(bytes);
  }

  static fromBytes(bytes: Buffer): HashTable {
    const table = new BigUint64Array(bytes.length / 8);
    for (let i = 0; i < table.length; i++) table[i] = bytes.readBigUInt64LE(i * 8);
    return new HashTable(table);
  }

  toBytes(): Buffer {
    const out = Buffer.alloc(this.hashes.length * 8);
    for (let i = 0; i < this.hashes.length; i++) out.writeBigUInt64LE(this.hashes[i], i * 8);
    return out;
  }

  /** sha256 over the hashes in order: two disks with equal digests have equal blocks. */
  digest(): string {
    return createHash('sha256').update(this.toBytes()).digest('hex');
  }

  get length(): number {
    return this.hashes.length;
  }
}

export function encodeFrameHeader(h: FrameHeader): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_BYTES);
  out.writeUInt8(h.type, 0);
  out.writeUInt8(h.flags, 1);
  out.writeUInt32LE(h.index, 4);
  out.writeBigUInt64LE(h.hash, 8);
  out.writeUInt32LE(h.payloadBytes, 16);
  return out;
}

export function decodeFrameHeader(buf: Buffer): FrameHeader {
  const type = buf.readUInt8(0);
  if (!(type in FrameType)) throw new Error(`unknown frame type ${type}`);
  return { type, flags: buf.readUInt8(1), index: buf.readUInt32LE(4), hash: buf.readBigUInt64LE(8), payloadBytes: buf.readUInt32LE(16) };
}

/**
 * Splits a byte stream into frames. Chunks are copied only when a frame straddles them,
 * so a 1 MiB block arriving in one chunk costs no copy.
 */
export async function* readFrames(stream: AsyncIterable<Buffer>, maxPayload: number): AsyncGenerator<{ header: FrameHeader; payload: Buffer; wireBytes: number }> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let header: FrameHeader | undefined;
  const take = (n: number): Buffer => {
    const first = pending[0];
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) pending.shift();
      else pending[0] = first.subarray(n);
      pendingBytes -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = pending[0];
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) pending.shift();
      else pending[0] = chunk.subarray(used);
    }
    pendingBytes -= n;
    return out;
  };
  for await (const chunk of stream) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    for (;;) {
      if (!header) {
        if (pendingBytes < FRAME_HEADER_BYTES) break;
        header = decodeFrameHeader(take(FRAME_HEADER_BYTES));
        if (header.payloadBytes > maxPayload) throw new Error(`frame payload of ${header.payloadBytes} bytes exceeds ${maxPayload}`);
      }
      if (pendingBytes < header.payloadBytes) break;
      const payload = header.payloadBytes ? take(header.payloadBytes) : Buffer.alloc(0);
      yield { header, payload, wireBytes: FRAME_HEADER_BYTES + header.payloadBytes };
      header = undefined;
    }
  }
  if (header || pendingBytes) throw new Error('stream ended in the middle of a frame');
  pending = [];
}
