import { decodeFrameHeader } from './blocks.js';
import { FRAME_HEADER_BYTES, type FrameHeader } from './protocol.js';

/**
 * Block-sized buffers used again and again. A fresh 1 MiB buffer per block costs page faults and,
 * as V8 counts it as external memory, a full garbage collection every few dozen blocks.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /** `maxFree`: buffers kept for later beyond that are left to the garbage collector */
  constructor(
    private readonly size: number,
    private readonly maxFree = Infinity,
  ) {}

  take(length: number): { buf: Buffer; owned?: Buffer } {
    if (length > this.size) return { buf: Buffer.allocUnsafe(length) };
    const owned = this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
    return { buf: owned.subarray(0, length), owned };
  }

  give(owned: Buffer | undefined): void {
    if (owned && this.free.length < this.maxFree) this.free.push(owned);
  }
}

const sharedPools = new Map<number, BufferPool>();

/**
 * One pool per block size for the whole process, so that cycle after cycle uses the same
 * memory: on a VM that reclaims freed memory, touching new pages costs ~2 ms per MiB.
 */
export function sharedBufferPool(blockSize: number, maxFree: number): BufferPool {
  let pool = sharedPools.get(blockSize);
  if (!pool) {
    pool = new BufferPool(blockSize, maxFree);
    sharedPools.set(blockSize, pool);
  }
  return pool;
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
 * Splits the agent's block stream into frames as its bytes arrive, copying each payload into a
 * pool buffer: the bytes arrive in a read buffer that the next read overwrites, so they are
 * copied anyway, and this way without allocating.
 */
export class FrameParser {
  private readonly head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  private headFill = 0;
  private header?: FrameHeader;
  private payload = EMPTY;
  private owned?: Buffer;
  private fill = 0;

  constructor(
    private readonly maxPayload: number,
    private readonly pool: BufferPool,
  ) {}

  /** Takes the bytes of `chunk` (copying what it keeps) and returns the frames they complete. */
  push(chunk: Buffer): PooledFrame[] {
    const frames: PooledFrame[] = [];
    for (let at = 0; at < chunk.length; ) {
      if (!this.header) {
        const n = Math.min(FRAME_HEADER_BYTES - this.headFill, chunk.length - at);
        chunk.copy(this.head, this.headFill, at, at + n);
        this.headFill += n;
        at += n;
        if (this.headFill < FRAME_HEADER_BYTES) break;
        this.headFill = 0;
        const header = decodeFrameHeader(this.head);
        if (header.payloadBytes > this.maxPayload) throw new Error(`frame payload of ${header.payloadBytes} bytes exceeds ${this.maxPayload}`);
        this.header = header;
        ({ buf: this.payload, owned: this.owned } = header.payloadBytes ? this.pool.take(header.payloadBytes) : { buf: EMPTY, owned: undefined });
        this.fill = 0;
      } else {
        const n = Math.min(this.payload.length - this.fill, chunk.length - at);
        chunk.copy(this.payload, this.fill, at, at + n);
        this.fill += n;
        at += n;
      }
      if (this.fill === this.payload.length) {
        frames.push({ header: this.header, payload: this.payload, owned: this.owned, wireBytes: FRAME_HEADER_BYTES + this.header.payloadBytes });
        this.header = undefined;
        this.payload = EMPTY;
        this.owned = undefined;
      }
    }
    return frames;
  }

  /** true when the bytes so far end inside a frame: a stream that stops here was cut. */
  get midFrame(): boolean {
    return this.header !== undefined || this.headFill > 0;
  }
}
