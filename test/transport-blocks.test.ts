import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blockHash, decodeFrameHeader, encodeFrameHeader, HashTable, isZeroBlock, zeroBlockHash } from '../src/transport/blocks.js';
import { BufferPool, readPooledFrames } from '../src/transport/frame-reader.js';
import { FrameType } from '../src/transport/protocol.js';

describe('blocks and frames', () => {
  it('keeps hash tables as little-endian u64s through a round trip', () => {
    const table = HashTable.unknown(5);
    table.hashes[0] = 1n;
    table.hashes[2] = 0x0102030405060708n;
    table.hashes[4] = 0xffffffffffffffffn;
    const bytes = table.toBytes();
    expect(bytes.readBigUInt64LE(16)).toBe(0x0102030405060708n);
    expect(bytes.readBigUInt64LE(32)).toBe(0xffffffffffffffffn);
    expect([...HashTable.fromBytes(bytes).hashes]).toEqual([...table.hashes]);
    expect(HashTable.fromBytes(bytes).digest()).toBe(table.digest());
    // the copy is the table's own: changing the table later does not change it
    table.hashes[1] = 9n;
    expect(bytes.readBigUInt64LE(8)).toBe(0n);
  });

  it('tells zero blocks, and never hands out 0 (which means unknown) as a hash', () => {
    expect(isZeroBlock(Buffer.alloc(4096))).toBe(true);
    const almost = Buffer.alloc(4096);
    almost[4095] = 1;
    expect(isZeroBlock(almost)).toBe(false);
    expect(zeroBlockHash(4096)).toBe(blockHash(Buffer.alloc(4096)));
    expect(zeroBlockHash(4096)).not.toBe(zeroBlockHash(1000));
    expect(blockHash(randomBytes(64))).not.toBe(0n);
  });

  it('reads frames back whatever the chunking of the stream', async () => {
    const blocks = [randomBytes(3000), randomBytes(4096), randomBytes(10)];
    const parts: Buffer[] = [];
    blocks.forEach((b, i) => parts.push(encodeFrameHeader({ type: FrameType.Data, flags: 0, index: i, hash: blockHash(b), payloadBytes: b.length }), b));
    parts.push(encodeFrameHeader({ type: FrameType.Zero, flags: 0, index: 7, hash: zeroBlockHash(4096), payloadBytes: 0 }));
    const wire = Buffer.concat(parts);
    for (const chunk of [1, 7, 20, 4096, wire.length]) {
      async function* chunks() {
        for (let at = 0; at < wire.length; at += chunk) yield wire.subarray(at, at + chunk);
      }
      const got = [];
      const pool = new BufferPool(4096);
      for await (const frame of readPooledFrames(chunks(), 4096, pool)) {
        got.push({ index: frame.header.index, type: frame.header.type, data: Buffer.from(frame.payload) });
        pool.give(frame.owned);
      }
      expect(got.map((g) => g.index)).toEqual([0, 1, 2, 7]);
      expect(got.slice(0, 3).map((g) => g.data)).toEqual(blocks);
      expect(got[3]).toMatchObject({ type: FrameType.Zero, data: Buffer.alloc(0) });
    }
    expect(decodeFrameHeader(parts[0])).toMatchObject({ type: FrameType.Data, index: 0, payloadBytes: 3000 });
  });

  it('refuses a truncated stream and an oversized frame', async () => {
    const header = encodeFrameHeader({ type: FrameType.Data, flags: 0, index: 0, hash: 5n, payloadBytes: 100 });
    async function* cut() {
      yield Buffer.concat([header, Buffer.alloc(50)]);
    }
    await expect((async () => { for await (const _ of readPooledFrames(cut(), 4096, new BufferPool(4096))) void _; })()).rejects.toThrow(/middle of a frame/);
    async function* big() {
      yield encodeFrameHeader({ type: FrameType.Data, flags: 0, index: 0, hash: 5n, payloadBytes: 1 << 30 });
    }
    await expect((async () => { for await (const _ of readPooledFrames(big(), 4096, new BufferPool(4096))) void _; })()).rejects.toThrow(/exceeds/);
  });
});
