import { decodeFrameHeader } from './blocks.js';
import { FRAME_HEADER_BYTES, type FrameHeader } from './protocol.js';

/**
 * Block-sized buffers used again and again. A fresh 1 MiB buffer per block costs page faults and,
 * as V8 counts it as external memory, a full garbage collection every few dozen blocks.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  constructor(private readonly size: number) {}

  take(length: number): { buf: Buffer; owned?: Buffer } {
    if (length > this.size) return { buf: Buffer.allocUnsafe(length) };
    const owned = this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
    return { buf: owned.subarray(0, length), owned };
  }

  give(owned: Buffer | undefined): void {
    if (owned) this.free.push(owned);
  }
}

export interface PooledFrame {
  header: FrameHeader;
  payload: Buffer;
  /** give it back to the pool once done with `payload` */
  owned?: Buffer;
  wireBytes: number;
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Splits the agent's block stream into frames, copying each payload into a pool buffer rather
 * than a new one: the stream arrives in 64 KiB chunks, so every 1 MiB payload is
 * copied anyway, and this way without allocating.
 */
export async function* readPooledFrames(stream: AsyncIterable<Buffer>, maxPayload: number, pool: BufferPool): AsyncGenerator<PooledFrame> {
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  let headFill = 0;
  let header: FrameHeader | undefined;
  let payload = EMPTY;
  let owned: Buffer | undefined;
  let fill = 0;
  for await (const chunk of stream) {
    for (let at = 0; at < chunk.length; ) {
      if (!header) {
        const n = Math.min(FRAME_HEADER_BYTES - headFill, chunk.length - at);
        chunk.copy(head, headFill, at, at + n);
        headFill += n;
        at += n;
        if (headFill < FRAME_HEADER_BYTES) break;
        headFill = 0;
        header = decodeFrameHeader(head);
        if (header.payloadBytes > maxPayload) throw new Error(`frame payload of ${header.payloadBytes} bytes exceeds ${maxPayload}`);
        ({ buf: payload, owned } = header.payloadBytes ? pool.take(header.payloadBytes) : { buf: EMPTY, owned: undefined });
        fill = 0;
      } else {
        const n = Math.min(payload.length - fill, chunk.length - at);
        chunk.copy(payload, fill, at, at + n);
        fill += n;
        at += n;
      }
      if (fill === payload.length) {
        const frame: PooledFrame = { header, payload, owned, wireBytes: FRAME_HEADER_BYTES + header.payloadBytes };
        header = undefined;
        payload = EMPTY;
        owned = undefined;
        yield frame;
      }
    }
  }
  if (header || headFill) throw new Error('stream ended in the middle of a frame');
}
