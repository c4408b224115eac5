import type { HashTable } from '../blocks.js';
import type { BufferPool, PooledFrame } from '../frame-reader.js';
import type { CycleDisk, DiskSize, FailureCause, TransportFailure } from '../protocol.js';

/** What a disk cycle reads one disk from, and how much of it. */
export interface BlockReadRequest {
  disk: CycleDisk;
  blockSize: number;
  /** the target's hashes: blocks with the same hash are not sent */
  known: HashTable;
  compress: boolean;
  pool: BufferPool;
  signal: AbortSignal;
}

/**
 * Where a cycle's blocks come from: an agent on the source host, or a vSphere datastore. Either
 * way the cycle sees the same frames (Data, Zero, Scan, then End with the digest of every block).
 */
export interface BlockSource {
  /** how messages name it: "agent 10.0.0.5:7002", "datastore 10.0.0.9" */
  readonly name: string;
  /** the cause given when the stream breaks or carries a damaged block */
  readonly lostCause: FailureCause;
  /** the size of each disk the cycle copies */
  sizes(disks: CycleDisk[]): Promise<DiskSize[]>;
  /** resolves once the source agreed to send the disk; iterating yields its frames */
  open(request: BlockReadRequest): Promise<AsyncIterable<PooledFrame>>;
  /** what went wrong reaching or reading the source, as a failure with a cause */
  classify(err: unknown): TransportFailure;
}
