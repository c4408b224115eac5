import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { blockCount, blockHash, HashTable, isZeroBlock } from '../blocks.js';
import type { PooledFrame } from '../frame-reader.js';
import { FrameType, type CycleRequest, type DatastoreExtent, type ReadSummary, type TransportFailure } from '../protocol.js';
import { isNetworkError } from '../../util/network-errors.js';
import { CertificateRefused, pinnedAgent } from '../../util/pinned-agent.js';
import type { BlockReadRequest, BlockSource } from './block-source.js';

/** How long the datastore may stay silent, before answering or in the middle of the download. */
const IDLE_TIMEOUT_MS = 60_000;
/** Unchanged blocks between two Scan frames, so that progress moves while nothing is written. */
const SCAN_EVERY = 64;
const EMPTY = Buffer.alloc(0);

/** The datastore answered something other than the whole file. */
class DatastoreRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A vSphere VM's disks, read over the datastore HTTP interface of its vCenter or ESXi host, with
 * no agent in the VM: each disk is one GET of its flat extent, or, when changed-block tracking
 * told the controller what changed, one ranged GET per changed range. Every block read is hashed
 * here and only those that differ from the target's are handed on.
 */
export function datastoreSource(request: CycleRequest): BlockSource {
  const first = new URL(request.disks[0].datastore!.url);
  const name = `datastore ${first.host}`;
  const agent = first.protocol === 'https:' ? pinnedAgent(request.datastore?.certificateSha256) : new http.Agent({ keepAlive: true });
  return {
    name,
    lostCause: 'datastore-lost',
    sizes: async (disks) => disks.map((d) => ({ path: d.disk, sizeBytes: d.datastore!.sizeBytes })),
    open: (r) => openExtent(r.disk.datastore!, agent, r, name),
    classify: (err) => classify(name, err),
  };
}

function classify(name: string, err: unknown): TransportFailure {
  if (err instanceof DatastoreRefused) {
    if (err.status === 404) return { cause: 'disk-vanished', message: `${name}: ${err.message}`, retryable: true };
    // a refused ticket: the next cycle brings a fresh one
    return { cause: 'datastore-refused', message: `${name}: ${err.message}`, retryable: err.status === 401 || err.status === 403 || err.status >= 500 };
  }
  if (err instanceof CertificateRefused) return { cause: 'datastore-refused', message: `${name}: ${err.message}`, retryable: false };
  const message = (err as Error).message ?? String(err);
  if (isNetworkError(err) || (err as Error).name === 'TimeoutError') return { cause: 'datastore-unreachable', message: `${name} cannot be reached: ${message}`, retryable: true };
  return { cause: 'datastore-lost', message: `${name}: ${message}`, retryable: true };
}

/** One GET of the extent, or of a range of it; resolves once the datastore answered with that body. */
function get(url: URL, ticket: string, agent: http.Agent, signal: AbortSignal, sizeBytes: number, range?: { offset: number; length: number }): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? https.get : http.get;
  const headers: Record<string, string> = { cookie: `vmware_cgi_ticket=${ticket}` };
  if (range) headers.range = `bytes=${range.offset}-${range.offset + range.length - 1}`;
  const expected = range?.length ?? sizeBytes;
  return new Promise((resolve, reject) => {
    const req = send(url, { agent, signal, headers }, (res) => {
      const status = res.statusCode ?? 0;
      const fail = (err: Error) => {
        res.destroy();
        reject(err);
      };
      // a range that is the whole file may come back whole
      const whole = status === 200 && (!range || (range.offset === 0 && range.length === sizeBytes));
      if (status !== (range && !whole ? 206 : 200)) {
        const why = status === 401 || status === 403 ? 'the ticket was refused (it is good for one request only)' : status === 404 ? 'the disk file is not there' : status === 200 ? 'the range was ignored' : 'the download was refused';
        return fail(new DatastoreRefused(status, `GET ${url.pathname}${range ? ` (${headers.range})` : ''} answered ${status}: ${why}`));
      }
      if (range && !whole && !res.headers['content-range']?.startsWith(`bytes ${range.offset}-`)) return fail(new DatastoreRefused(status, `GET ${url.pathname} (${headers.range}) answered another range: ${res.headers['content-range']}`));
      const length = res.headers['content-length'];
      if (length !== undefined && Number(length) !== expected) return fail(new DatastoreRefused(status, `${url.pathname} answered ${length} bytes; ${range ? 'the range has' : 'the disk has'} ${expected}`));
      resolve(res);
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(Object.assign(new Error(`no data within ${IDLE_TIMEOUT_MS / 1000} s`), { name: 'TimeoutError' })));
    req.on('error', reject);
  });
}

/**
 * Starts reading the extent: the whole of it, or only its changed ranges. Resolves once the first
 * GET was answered, so that a refused ticket fails the start rather than the stream.
 */
async function openExtent(extent: DatastoreExtent, agent: http.Agent, r: BlockReadRequest, name: string): Promise<AsyncIterable<PooledFrame>> {
  const url = new URL(extent.url);
  const reader = new ExtentReader(extent.sizeBytes, r, `${name}${url.pathname}`);
  if (extent.ticket) {
    const res = await get(url, extent.ticket, agent, r.signal, extent.sizeBytes);
    return (async function* () {
      yield* reader.read(res, 0, extent.sizeBytes);
      yield reader.end();
    })();
  }
  const ranges = extent.ranges ?? [];
  let next = ranges.length ? get(url, ranges[0].ticket, agent, r.signal, extent.sizeBytes, ranges[0]) : undefined;
  if (next) await next;
  return (async function* () {
    for (const [i, range] of ranges.entries()) {
      const res = await next!;
      next = undefined;
      yield* reader.skipTo(range.offset / r.blockSize);
      yield* reader.read(res, range.offset, range.length);
      if (i + 1 < ranges.length) {
        // asked while this range is written; a stream abandoned meanwhile must not leave it unhandled
        next = get(url, ranges[i + 1].ticket, agent, r.signal, extent.sizeBytes, ranges[i + 1]);
        next.catch(() => undefined);
      }
    }
    yield* reader.skipTo(reader.blocks);
    yield reader.end();
  })();
}

/**
 * Turns what is read of an extent into the frames an agent would have sent: each block read is
 * hashed and handed on when it differs from the target's; blocks not read (outside the changed
 * ranges) keep the target's hash.
 */
class ExtentReader {
  readonly blocks: number;
  private readonly all: HashTable;
  private readonly summary;
  private index = 0;
  private wire = 0;

  constructor(
    private readonly size: number,
    private readonly r: BlockReadRequest,
    private readonly what: string,
  ) {
    this.blocks = blockCount(size, r.blockSize);
    this.all = HashTable.unknown(this.blocks);
    this.summary = { sizeBytes: size, blocks: this.blocks, sentBlocks: 0, zeroBlocks: 0, unchangedBlocks: 0 };
  }

  /** Passes over the blocks up to `index` unread: as the target has them. */
  *skipTo(index: number): Generator<PooledFrame> {
    for (; this.index < index; this.index++) {
      this.all.hashes[this.index] = this.r.known.hashes[this.index];
      this.summary.unchangedBlocks++;
      if (this.index % SCAN_EVERY === SCAN_EVERY - 1) yield this.scan();
    }
  }

  /** Cuts a body of `length` bytes from byte `offset` (a block boundary) into blocks. */
  async *read(res: IncomingMessage, offset: number, length: number): AsyncGenerator<PooledFrame> {
    const { blockSize, pool } = this.r;
    const end = Math.min(this.size, offset + length);
    const lengthOf = (index: number) => Math.min(blockSize, end - index * blockSize);
    this.index = offset / blockSize;
    let fill = 0;
    let block = offset < end ? pool.take(lengthOf(this.index)) : undefined;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        this.wire += chunk.length;
        for (let at = 0; at < chunk.length; ) {
          if (!block) throw new Error(`${this.what} sent more than the ${length} bytes asked from byte ${offset}`);
          const n = Math.min(block.buf.length - fill, chunk.length - at);
          chunk.copy(block.buf, fill, at, at + n);
          fill += n;
          at += n;
          if (fill < block.buf.length) continue;
          const full = block;
          block = (this.index + 1) * blockSize < end ? pool.take(lengthOf(this.index + 1)) : undefined;
          fill = 0;
          const frame = this.judge(full);
          this.index++;
          if (frame) yield frame;
        }
      }
      if (block) throw new Error(`${this.what} ended after ${this.index * blockSize + fill - offset} of the ${end - offset} bytes asked from byte ${offset}`);
    } finally {
      pool.give(block?.owned);
      res.destroy();
    }
  }

  /** The block at `index`: unchanged (no frame, but now and then a Scan), zeros, or data. */
  private judge(block: { buf: Buffer; owned?: Buffer }): PooledFrame | undefined {
    const index = this.index;
    const hash = blockHash(block.buf);
    this.all.hashes[index] = hash;
    if (this.r.known.hashes[index] === hash) {
      this.summary.unchangedBlocks++;
      this.r.pool.give(block.owned);
      return index % SCAN_EVERY === SCAN_EVERY - 1 ? this.scan() : undefined;
    }
    if (isZeroBlock(block.buf)) {
      this.summary.zeroBlocks++;
      return { header: { type: FrameType.Zero, flags: 0, index, hash, payloadBytes: 0 }, payload: EMPTY, owned: block.owned, wireBytes: this.takeWire() };
    }
    this.summary.sentBlocks++;
    return { header: { type: FrameType.Data, flags: 0, index, hash, payloadBytes: block.buf.length }, payload: block.buf, owned: block.owned, wireBytes: this.takeWire() };
  }

  private scan(): PooledFrame {
    return { header: { type: FrameType.Scan, flags: 0, index: this.index + 1, hash: 0n, payloadBytes: 0 }, payload: EMPTY, wireBytes: this.takeWire() };
  }

  end(): PooledFrame {
    const summary: ReadSummary = { ...this.summary, digest: this.all.digest() };
    const json = Buffer.from(JSON.stringify(summary));
    return { header: { type: FrameType.End, flags: 0, index: this.blocks, hash: 0n, payloadBytes: json.length }, payload: json, wireBytes: this.takeWire() };
  }

  private takeWire(): number {
    const bytes = this.wire;
    this.wire = 0;
    return bytes;
  }
}
