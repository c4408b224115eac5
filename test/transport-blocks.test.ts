import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blockHash, decodeFrameHeader, encodeFrameHeader, HashTable, isZeroBlock, zeroBlockHash } from '../src/transport/blocks.js';
import { BufferPool, FrameParser } from '../src/transport/frame-reader.js';
import { FrameType } from '../src/transport/protocol.js';
import { TargetRecord } from '../src/transport/server/target-record.js';

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
      const got = [];
      const pool = new BufferPool(4096);
      const parser = new FrameParser(4096, pool);
      for (let at = 0; at < wire.length; at += chunk) {
        // the parser must copy what it keeps: the caller's read buffer is overwritten next time
        const readBuffer = Buffer.from(wire.subarray(at, at + chunk));
        const frames = parser.push(readBuffer);
        readBuffer.fill(0xee);
        for (const frame of frames) {
          got.push({ index: frame.header.index, type: frame.header.type, data: Buffer.from(frame.payload) });
          pool.give(frame.owned);
        }
      }
      expect(parser.midFrame).toBe(false);
      expect(got.map((g) => g.index)).toEqual([0, 1, 2, 7]);
      expect(got.slice(0, 3).map((g) => g.data)).toEqual(blocks);
      expect(got[3]).toMatchObject({ type: FrameType.Zero, data: Buffer.alloc(0) });
    }
    expect(decodeFrameHeader(parts[0])).toMatchObject({ type: FrameType.Data, index: 0, payloadBytes: 3000 });
  });

  it('tells a stream cut inside a frame, and refuses an oversized frame', () => {
    const header = encodeFrameHeader({ type: FrameType.Data, flags: 0, index: 0, hash: 5n, payloadBytes: 100 });
    const cut = new FrameParser(4096, new BufferPool(4096));
    expect(cut.push(Buffer.concat([header, Buffer.alloc(50)]))).toEqual([]);
    expect(cut.midFrame).toBe(true);
    const headerOnly = new FrameParser(4096, new BufferPool(4096));
    headerOnly.push(header.subarray(0, 5));
    expect(headerOnly.midFrame).toBe(true);
    const big = new FrameParser(4096, new BufferPool(4096));
    expect(() => big.push(encodeFrameHeader({ type: FrameType.Data, flags: 0, index: 0, hash: 5n, payloadBytes: 1 << 30 }))).toThrow(/exceeds/);
  });

  it('checkpoints a target record in place: what is reloaded after each step is what was recorded', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-record-'));
    try {
      const table = HashTable.unknown(1000);
      table.hashes.fill(7n);
      const record = await TargetRecord.create(stateDir, { targetPath: '/dev/x', sizeBytes: 1000 * 4096, blockSize: 4096, consistent: true, digest: 'd' }, table);
      await record.intend([3, 4, 999, 500]);
      const afterIntent = (await TargetRecord.load(stateDir, '/dev/x'))!;
      expect(afterIntent.meta.consistent).toBe(false);
      expect([3, 4, 500, 999].map((i) => afterIntent.table.hashes[i])).toEqual([0n, 0n, 0n, 0n]);
      expect([2, 5, 499, 501, 998].map((i) => afterIntent.table.hashes[i])).toEqual([7n, 7n, 7n, 7n, 7n]);
      await record.commit([[3, 30n], [4, 40n], [999, 9990n], [500, 5000n]]);
      await record.markConsistent('new-digest', 'cycle-2');
      await record.close();
      const reloaded = (await TargetRecord.load(stateDir, '/dev/x'))!;
      expect(reloaded.meta).toMatchObject({ consistent: true, digest: 'new-digest', lastCycleId: 'cycle-2' });
      expect([...reloaded.table.hashes]).toEqual([...record.table.hashes]);
      expect(reloaded.table.hashes[999]).toBe(9990n);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
