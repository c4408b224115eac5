/**
 * The Ferry transport protocol, version 1: HTTP/JSON between Ferry (the controller), transport
 * servers and source-host agents, plus one binary stream (agent → transport disk blocks).
 * Written down in docs/transport-protocol.md; every program imports its types from here.
 */

export const PROTOCOL_VERSION = 1;
export const API_PREFIX = '/v1';
export const DEFAULT_AGENT_PORT = 7001;
export const DEFAULT_TRANSPORT_PORT = 7002;

export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
export const MIN_BLOCK_SIZE = 64 * 1024;
export const MAX_BLOCK_SIZE = 16 * 1024 * 1024;

// ---------------------------------------------------------------- addresses

export interface HostPort {
  host: string;
  port: number;
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`; undefined when malformed. */
export function parseAddress(addr: string, defaultPort: number): HostPort | undefined {
  const text = addr.trim();
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text);
  const plain = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text);
  const match = v6 ?? plain;
  if (!match) return undefined;
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1], port };
}

export const baseUrl = ({ host, port }: HostPort): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

// ---------------------------------------------------------------- errors

/** Every non-2xx answer of an agent or a transport. */
export interface ProtocolError {
  error: string;
  message: string;
}

// ---------------------------------------------------------------- agent

export interface AgentInfo {
  protocol: number;
  role: 'agent';
  hostname: string;
}

export type PartitionTableType = 'MBR' | 'GPT';
export type FilesystemType = 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'other';
export type DiskUse = 'boot' | 'root' | 'data';

export interface PartitionFacts {
  number: number;
  startBytes: number;
  sizeBytes: number;
  /** MBR type byte as hex (`83`) or GPT type GUID */
  typeId: string;
  bootable: boolean;
  filesystem: FilesystemType | null;
  /** bytes, where the filesystem tells */
  freeBytes: number | null;
}

export interface DiskFacts {
  /** what the transport asks for: the block device or image path */
  path: string;
  kind: 'block-device' | 'image-file';
  sizeBytes: number;
  partitionTable: PartitionTableType | null;
  partitions: PartitionFacts[];
  /** a filesystem written straight onto the disk, without a partition table */
  filesystem: FilesystemType | null;
  freeBytes: number | null;
  use: DiskUse;
}

export interface NetInterfaceFacts {
  name: string;
  mac: string;
  ips: string[];
}

export interface HostFacts {
  hostname: string;
  osType: string;
  osName: string;
  cpus: number;
  sockets: number;
  memoryBytes: number;
  manufacturer: string | null;
  netInterfaces: NetInterfaceFacts[];
  disks: DiskFacts[];
}

/** `GET /v1/disks` on the agent: the disks it serves and their sizes, without inspecting them. */
export interface DiskSize {
  path: string;
  sizeBytes: number;
}

/** `POST /v1/disks/read` on the agent: stream the disk's blocks that differ from `knownHashes`. */
export interface ReadRequest {
  /** a `DiskFacts.path` the agent serves */
  disk: string;
  blockSize: number;
  /** base64 of little-endian u64 block hashes of the target; 0 = unknown. Absent: send every block */
  knownHashes?: string;
  compress: boolean;
}

/**
 * `POST /v1/disks/read` is an HTTP/1.1 upgrade to this protocol: after `101 Switching Protocols`
 * the connection carries the agent's frames, each a header then a payload, until it closes.
 */
export const BLOCK_STREAM_PROTOCOL = 'ferry-blocks/1';

export const FRAME_HEADER_BYTES = 20;
export enum FrameType {
  /** payload = block bytes (deflate-raw when the compressed flag is set) */
  Data = 1,
  /** an all-zero block; no payload */
  Zero = 2,
  /** payload = JSON `ReadSummary`; the last frame of a complete read */
  End = 3,
  /** payload = JSON `ProtocolError` with the block index; the read stops there */
  Error = 4,
  /** no payload; `index` blocks have been read so far (sent now and then while nothing changes) */
  Scan = 5,
}
export const FRAME_COMPRESSED = 1;

export interface FrameHeader {
  type: FrameType;
  flags: number;
  /** block index (u32) */
  index: number;
  /** xxh64 of the uncompressed block */
  hash: bigint;
  payloadBytes: number;
}

export interface ReadSummary {
  sizeBytes: number;
  blocks: number;
  sentBlocks: number;
  zeroBlocks: number;
  unchangedBlocks: number;
  /** sha256 (hex) over all block hashes in order: equal digests mean equal disks */
  digest: string;
}

// ---------------------------------------------------------------- transport

export type StorageTypeName = 'LOCAL' | 'ARSTOR' | 'FCSAN' | 'IPSAN' | 'XSKY';

export interface TransportInfo {
  protocol: number;
  role: 'transport';
  maxSupportedTasks: number;
  currentTasks: number;
  storageId: string;
  storageType: StorageTypeName;
  paired: boolean;
  /** its own server in the cloud it runs in (`--cloud-server-id`), where task volumes are attached; absent on premises */
  cloudServerId?: string;
}

/** `POST /v1/pair`: the first controller to ask gets the secret; others are refused until a local reset. */
export interface PairRequest {
  controllerId: string;
  callbackUrl: string;
}
export interface PairResponse {
  transportId: string;
  secret: string;
}

export interface AgentRequest {
  agentAddr: string;
}

export type CycleKind = 'full' | 'incremental';

export interface CycleDisk {
  /** the agent's disk path; for a vSphere VM, its backing file (`[datastore] dir/disk.vmdk`) */
  disk: string;
  /** where the transport writes it: a file or block device (the attached cloud volume) */
  targetPath: string;
  /** for a vSphere VM (no agent): where the transport downloads the disk's flat extent */
  datastore?: DatastoreExtent;
}

/**
 * A VM disk's flat extent on the vSphere datastore HTTP interface, which the transport reads
 * itself: `GET https://<vCenter or ESXi>/folder/<dir>/<name>-flat.vmdk?dcPath=…&dsName=…` with the
 * cookie `vmware_cgi_ticket=<ticket>`. A ticket is good for one request only, so a cycle that
 * must start again (after a restart of the transport) fails and the controller starts a new one.
 */
export interface DatastoreExtent {
  url: string;
  sizeBytes: number;
  /** read the whole extent, in one GET with this ticket (and compare every block's hash) */
  ticket?: string;
  /**
   * or read only these byte ranges, those vSphere's changed-block tracking reports changed since
   * the copy the target holds: one GET with a `Range` header and its own ticket each. Every other
   * block is taken to be as the target has it. Offsets and lengths are multiples of the block
   * size (the last range may end at the end of the extent).
   */
  ranges?: DatastoreRange[];
}

export interface DatastoreRange {
  offset: number;
  length: number;
  ticket: string;
}

export interface CycleRequest {
  /** chosen by the controller; repeating a request with the same id is harmless */
  cycleId: string;
  taskId: string;
  /** the agent to read from; absent when the disks are read from a vSphere datastore */
  agentAddr?: string;
  /** the disks are a vSphere VM's, read from its datastore (each disk has `datastore`) */
  datastore?: DatastoreSource;
  kind: CycleKind;
  disks: CycleDisk[];
  blockSize?: number;
  compress?: boolean;
  /** MB/s on the wire (1 MB = 10^6 bytes); 0 or absent: no cap */
  qosMBps?: number;
}

export interface DatastoreSource {
  /** the SHA-256 thumbprint (AA:BB:…) the server's certificate must have; absent: a trusted CA must vouch for it */
  certificateSha256?: string;
}

export type WorkState = 'running' | 'finished' | 'failed' | 'cancelled';

export interface DiskProgress {
  disk: string;
  targetPath: string;
  sizeBytes: number;
  scannedBytes: number;
  sentBlocks: number;
  zeroBlocks: number;
  unchangedBlocks: number;
  /** bytes received on the wire for this disk */
  wireBytes: number;
  writtenBytes: number;
}

export interface CycleStatus {
  cycleId: string;
  taskId: string;
  kind: CycleKind;
  state: WorkState;
  startedAt: string;
  endedAt?: string;
  disks: DiskProgress[];
  /** wire bytes per second, smoothed */
  rateBytesPerSec: number;
  error?: TransportFailure;
}

export interface ConversionTarget {
  targetPath: string;
  boot: boolean;
}

export interface ConversionRequest {
  conversionId: string;
  taskId: string;
  targets: ConversionTarget[];
}

export interface ConversionStatus {
  conversionId: string;
  taskId: string;
  state: WorkState;
  startedAt: string;
  endedAt?: string;
  result?: ConversionResult;
  error?: TransportFailure;
}

export interface ConversionResult {
  /** true only when a conversion tool ran and succeeded */
  converted: boolean;
  tool: 'virt-v2v-in-place' | null;
  message: string;
  bootDisk: { targetPath: string; partitionTable: PartitionTableType | null; filesystems: (FilesystemType | null)[] } | null;
}

export interface TransportStatus {
  currentTasks: number;
  maxSupportedTasks: number;
  cycles: CycleStatus[];
  conversions: ConversionStatus[];
}

export type FailureCause =
  | 'agent-unreachable'
  | 'agent-refused'
  | 'agent-lost'
  | 'datastore-unreachable'
  | 'datastore-refused'
  | 'datastore-lost'
  | 'disk-vanished'
  | 'read-error'
  | 'target-full'
  | 'target-too-small'
  | 'write-error'
  | 'verification-failed'
  | 'conversion-failed'
  | 'internal';

export interface TransportFailure {
  cause: FailureCause;
  message: string;
  disk?: string;
  /** true when running the same request again may succeed */
  retryable: boolean;
}

// ---------------------------------------------------------------- events (transport → controller)

export interface DiskResult {
  disk: string;
  targetPath: string;
  sizeBytes: number;
  blocks: number;
  sentBlocks: number;
  zeroBlocks: number;
  unchangedBlocks: number;
  wireBytes: number;
  writtenBytes: number;
  /** ReadSummary.digest, checked against the target's own block hashes */
  digest: string;
}

export type TransportEventBody =
  | { type: 'cycle.progress'; taskId: string; cycleId: string; progress: CycleStatus }
  | { type: 'cycle.finished'; taskId: string; cycleId: string; kind: CycleKind; durationMs: number; disks: DiskResult[] }
  | { type: 'cycle.failed'; taskId: string; cycleId: string; failure: TransportFailure }
  | { type: 'cycle.cancelled'; taskId: string; cycleId: string }
  | { type: 'conversion.finished'; taskId: string; conversionId: string; result: ConversionResult }
  | { type: 'conversion.failed'; taskId: string; conversionId: string; failure: TransportFailure };

export type TransportEvent = TransportEventBody & {
  /** unique per event: receivers de-duplicate on it */
  id: string;
  /** per transport, increasing */
  seq: number;
  transportId: string;
  at: string;
};

// ---------------------------------------------------------------- signing

/** Requests from the controller and events to it carry these, computed with the pairing secret. */
export const SIGNATURE_HEADERS = {
  timestamp: 'x-ferry-timestamp',
  nonce: 'x-ferry-nonce',
  signature: 'x-ferry-signature',
} as const;

/** How far a signed message's timestamp may stray from the receiver's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** `POST /v1/endpoints/probe {url}`: what a transport sees when it connects to an endpoint it must read from (vCenter, ESXi). */
export interface EndpointProbe {
  reachable: true;
  /** the TLS certificate's SHA-256 thumbprint (AA:BB:…), for an https endpoint */
  sha256?: string;
  /** whether an authority this transport trusts vouches for the certificate */
  trusted?: boolean;
}
