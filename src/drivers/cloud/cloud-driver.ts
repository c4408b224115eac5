/**
 * What Ferry needs from a target cloud, whatever its vendor. Services receive a CloudDriver
 * (made by `createCloudDriver` from a cloud connection's settings) and never talk HTTP to a cloud
 * themselves. Every method fails with a CloudError, never with a raw network or HTTP error.
 */

export const CLOUD_TYPES = ['Huayun', 'Openstack', 'CloudUltra 4', 'ArcherOS 2020'] as const;
export type CloudType = (typeof CLOUD_TYPES)[number];

/** OpenStack and OpenStack-based clouds (ArcherOS 2020): Keystone v3 password auth scoped to a project. */
export interface OpenStackSettings {
  kind: 'openstack';
  /** http or https (the spec's IdentityProtocal) */
  protocol: 'http' | 'https';
  /** Keystone host name or address (CloudAddr) */
  host: string;
  /** Keystone port (IdentityPort), 5000 by default */
  port: number;
  user: string;
  password: string;
  project: string;
  /** user and project domain name, `Default` unless given */
  domain: string;
  /** catalog region to use; the first endpoint of each service when absent */
  region?: string;
}

/** Huayun public cloud: AK/SK, regions. Wire contract in docs/clouds/huayun.md. */
export interface HuayunSettings {
  kind: 'huayun';
  /** the service's base URL, e.g. https://api.huayun.example (CloudAddr) */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  regionId?: string;
}

/** CloudUltra 4: AK/SK through APIMgntURL, owner (project), environment, zone. Wire contract in docs/clouds/cloudultra.md. */
export interface CloudUltraSettings {
  kind: 'cloudultra';
  /** APIMgntURL, e.g. http://172.16.140.20/api */
  apiUrl: string;
  accessKey: string;
  secretKey: string;
  ownerId?: string;
  environmentId?: string;
  zoneId?: string;
}

export type CloudSettings = OpenStackSettings | HuayunSettings | CloudUltraSettings;

export interface DriverOptions {
  /** the connection's name, used in every error message */
  cloudName: string;
  /** per HTTP call; 15 s by default */
  timeoutMs?: number;
}

export interface NamedRef {
  id: string;
  name: string;
}

export interface Flavor extends NamedRef {
  vcpus: number;
  ramMiB: number;
  diskGiB: number;
}

export interface Subnet extends NamedRef {
  networkId: string;
  cidr: string;
  gatewayIp?: string;
}

export interface Network extends NamedRef {
  subnets: Subnet[];
}

export interface VolumeType extends NamedRef {
  /** the storage backend the type maps to, when the cloud tells */
  backend?: string;
}

/** A storage backend or pool volumes can be placed on. */
export interface Storage extends NamedRef {
  type: string;
  totalGiB?: number;
  freeGiB?: number;
}

export interface QuotaItem {
  /** -1 means unlimited */
  limit: number;
  used: number;
}

export interface Quota {
  cores: QuotaItem;
  ramMiB: QuotaItem;
  instances: QuotaItem;
  volumes: QuotaItem;
  volumeGiB: QuotaItem;
  snapshots: QuotaItem;
}

export type VolumeStatus = 'creating' | 'available' | 'attaching' | 'in-use' | 'detaching' | 'deleting' | 'error' | 'error_deleting';

export interface Volume extends NamedRef {
  sizeGiB: number;
  status: VolumeStatus | string;
  volumeTypeId?: string;
  /** server ids it is attached to */
  attachedTo: string[];
  bootable: boolean;
}

export interface Snapshot extends NamedRef {
  volumeId: string;
  sizeGiB: number;
  status: 'creating' | 'available' | 'deleting' | 'error' | string;
  createdAt: string;
}

export interface Attachment {
  serverId: string;
  volumeId: string;
  /** where the volume appears on the server (in the OpenStack simulator: the volume's file) */
  device: string;
}

export type ServerStatus = 'BUILD' | 'ACTIVE' | 'ERROR' | 'SHUTOFF' | 'DELETED' | string;

export interface Server extends NamedRef {
  status: ServerStatus;
  /** network name → fixed addresses */
  addresses: Record<string, string[]>;
  /** why it is in ERROR, when the cloud says */
  fault?: string;
}

export interface CreateVolumeInput {
  name: string;
  sizeGiB: number;
  volumeTypeId?: string;
  availabilityZone?: string;
  /** make the volume bootable (the boot disk of a migrated server) */
  bootable?: boolean;
}

export interface CreateServerInput {
  name: string;
  /** a flavor, or vcpus + ramMiB (the driver finds or makes a matching flavor) */
  flavorId?: string;
  vcpus?: number;
  ramMiB?: number;
  /** volumes to boot from: the first is the boot disk */
  volumeIds: string[];
  networkId: string;
  subnetId?: string;
  fixedIp?: string;
  securityGroupId?: string;
  availabilityZone?: string;
}

export interface CloudDriver {
  readonly type: CloudType;
  /** Checks the credentials (and the project/region/zone they name): resolves, or a CloudError says why not. */
  verify(): Promise<void>;

  // where the cloud has these notions; an empty list where it does not
  projects(): Promise<NamedRef[]>;
  environments(): Promise<NamedRef[]>;
  zones(): Promise<NamedRef[]>;
  regions(): Promise<NamedRef[]>;

  flavors(): Promise<Flavor[]>;
  networks(): Promise<Network[]>;
  securityGroups(): Promise<NamedRef[]>;
  volumeTypes(): Promise<VolumeType[]>;
  storages(): Promise<Storage[]>;
  quota(): Promise<Quota>;

  // conflicts, checked before creating anything
  serverNameTaken(name: string): Promise<boolean>;
  volumeNameTaken(name: string): Promise<boolean>;
  /** fixed IPs already used on a network (ports), to refuse a taken address before booting */
  fixedIpsInUse(networkId: string): Promise<string[]>;

  createVolume(input: CreateVolumeInput): Promise<Volume>;
  getVolume(id: string): Promise<Volume>;
  /** The volume with exactly this name, or null; several with that name is a conflict CloudError. */
  findVolume(name: string): Promise<Volume | null>;
  deleteVolume(id: string): Promise<void>;
  attachVolume(serverId: string, volumeId: string): Promise<Attachment>;
  detachVolume(serverId: string, volumeId: string): Promise<void>;

  createSnapshot(volumeId: string, name: string): Promise<Snapshot>;
  getSnapshot(id: string): Promise<Snapshot>;
  /** The snapshot with exactly this name, or null; several with that name is a conflict CloudError. */
  findSnapshot(name: string): Promise<Snapshot | null>;
  deleteSnapshot(id: string): Promise<void>;

  createServer(input: CreateServerInput): Promise<Server>;
  getServer(id: string): Promise<Server>;
  /**
   * The server with exactly this name, or null; several with that name is a conflict CloudError.
   * A server being deleted (or DELETED) does not count.
   */
  findServer(name: string): Promise<Server | null>;
  /**
   * Deletes a server (with what the driver made for it in createServer) and resolves once the
   * cloud no longer shows it, its volumes free again. A server already gone succeeds.
   */
  deleteServer(id: string): Promise<void>;
}

/** Why a cloud call failed, in words a user can act on. */
export type CloudErrorKind =
  | 'unauthorized' // 401: bad credentials, or a token that could not be renewed
  | 'forbidden' // 403
  | 'not-found' // 404
  | 'conflict' // 409
  | 'over-quota' // 413 (OpenStack's quota answer), or the cloud's own over-quota code
  | 'bad-request' // 400
  | 'server-error' // 5xx
  | 'timeout'
  | 'unreachable' // connection refused, DNS, TLS
  | 'bad-response'; // an answer we cannot read

export class CloudError extends Error {
  constructor(
    readonly kind: CloudErrorKind,
    /** the connection's name */
    readonly cloud: string,
    /** what was being done, e.g. "list flavors (Nova GET /flavors/detail)" */
    readonly call: string,
    message: string,
    readonly status?: number,
  ) {
    super(`cloud "${cloud}": ${call}: ${message}`);
    this.name = 'CloudError';
  }
}
