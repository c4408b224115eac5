import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { blockCount, blockHash, HashTable, isZeroBlock } from '../blocks.js';
import type { PooledFrame } from '../frame-reader.js';
import { FrameType, type CycleRequest, type DatastoreExtent, type ReadSummary, type TransportFailure } from '../protocol.js';
import { CertificateRefused, pinnedAgent } from '../../util/pinned-agent.js';
import type { BlockReadRequest, BlockSource } from './block-source.js';

/** How long the datastore may stay silent, before answering or in the middle of the download. */
const IDLE_TIMEOUT_MS = 60_000;
/** Unchanged blocks between two Scan frames, so that progress moves while nothing is written. */
const SCAN_EVERY = 64;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);
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
 * no agent in the VM. Each disk is one GET of its flat extent; every block is hashed here and only
 * those that differ from the target's are handed on, so an incremental cycle downloads the whole
 * disk but writes only what changed.
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
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const message = (err as Error).message ?? String(err);
  if (NETWORK_CODES.has(code) || (err as Error).name === 'TimeoutError') return { cause: 'datastore-unreachable', message: `${name} cannot be reached: ${message}`, retryable: true };
  return { cause: 'datastore-lost', message: `${name}: ${message}`, retryable: true };
}

/** Starts the download; resolves once the datastore answered 200 with a body of the disk's size. */
function openExtent(extent: DatastoreExtent, agent: http.Agent, r: BlockReadRequest, name: string): Promise<AsyncIterable<PooledFrame>> {
  const url = new URL(extent.url);
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { agent, signal: r.signal, headers: { cookie: `vmware_cgi_ticket=${extent.ticket}` } }, (res) => {
      const status = res.statusCode ?? 0;
      const length = Number(res.headers['content-length']);
      if (status !== 200) {
        res.resume();
        const why = status === 401 || status === 403 ? 'the ticket was refused (it is good for one request only)' : status === 404 ? 'the disk file is not there' : 'the download was refused';
        return reject(new DatastoreRefused(status, `GET ${url.pathname} answered ${status}: ${why}`));
      }
      if (res.headers['content-length'] !== undefined && length !== extent.sizeBytes) {
        res.destroy();
        return reject(new DatastoreRefused(status, `${url.pathname} holds ${length} bytes; the disk has ${extent.sizeBytes}`));
      }
      resolve(frames(res, extent.sizeBytes, r, `${name}${url.pathname}`));
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(Object.assign(new Error(`no data within ${IDLE_TIMEOUT_MS / 1000} s`), { name: 'TimeoutError' })));
    req.on('error', reject);
  });
}

/** Cuts the download into blocks and yields the frames an agent would have sent for them. */
async function* frames(res: IncomingMessage, size: number, r: BlockReadRequest, what: string): AsyncGenerator<PooledFrame> {
  const { blockSize, known, pool } = r;
  const blocks = blockCount(size, blockSize);
  const lengthOf = (index: number) => Math.min(blockSize, size - index * blockSize);
  const all = HashTable.unknown(blocks);
  const summary = { sizeBytes: size, blocks, sentBlocks: 0, zeroBlocks: 0, unchangedBlocks: 0 };
  let index = 0;
  let fill = 0;
  let wire = 0;
  let block = blocks > 0 ? pool.take(lengthOf(0)) : undefined;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      wire += chunk.length;
      for (let offset = 0; offset < chunk.length; ) {
        if (!block) throw new Error(`${what} sent more than the disk's ${size} bytes`);
        const n = Math.min(block.buf.length - fill, chunk.length - offset);
        chunk.copy(block.buf, fill, offset, offset + n);
        fill += n;
        offset += n;
        if (fill < block.buf.length) continue;

        const hash = blockHash(block.buf);
        all.hashes[index] = hash;
        const full = block;
        block = index + 1 < blocks ? pool.take(lengthOf(index + 1)) : undefined;
        fill = 0;
        if (known.hashes[index] === hash) {
          summary.unchangedBlocks++;
          pool.give(full.owned);
          if (index % SCAN_EVERY === SCAN_EVERY - 1) yield { header: { type: FrameType.Scan, flags: 0, index: index + 1, hash: 0n, payloadBytes: 0 }, payload: EMPTY, wireBytes: takeWire() };
        } else if (isZeroBlock(full.buf)) {
          summary.zeroBlocks++;
          yield { header: { type: FrameType.Zero, flags: 0, index, hash, payloadBytes: 0 }, payload: EMPTY, owned: full.owned, wireBytes: takeWire() };
        } else {
          summary.sentBlocks++;
          yield { header: { type: FrameType.Data, flags: 0, index, hash, payloadBytes: full.buf.length }, payload: full.buf, owned: full.owned, wireBytes: takeWire() };
        }
        index++;
      }
    }
    if (index < blocks) throw new Error(`${what} ended after ${index * blockSize + fill} of ${size} bytes`);
    const end: ReadSummary = { ...summary, digest: all.digest() };
    const json = Buffer.from(JSON.stringify(end));
    yield { header: { type: FrameType.End, flags: 0, index: blocks, hash: 0n, payloadBytes: json.length }, payload: json, wireBytes: takeWire() };
  } finally {
    pool.give(block?.owned);
    res.destroy();
  }

  function takeWire(): number {
    const bytes = wire;
    wire = 0;
    return bytes;
  }
}
