/** The in-memory state of a simulated AK/SK cloud, in neutral terms; each cloud's routes and views speak its own wire names. */
import { notFound } from './api-error.js';
import type { VolumeFiles } from './volume-files.js';

export interface FlavorRec {
  id: string;
  name: string;
  vcpus: number;
  ramMiB: number;
  diskGiB: number;
  series?: string;
}
export interface SubnetRec {
  id: string;
  name: string;
  cidr: string;
  gatewayIp: string;
}
export interface NetworkRec {
  id: string;
  name: string;
  cidr: string;
  subnets: SubnetRec[];
}
export interface RouterRec {
  id: string;
  name: string;
  networkId: string;
  externalGateway: boolean;
}
export interface NamedRec {
  id: string;
  name: string;
  description?: string;
}
export interface VolumeTypeRec extends NamedRec {
  storageId: string;
}
export interface StorageRec extends NamedRec {
  type: string;
  totalGiB: number;
}

/** What one scope (a Huayun region; a CloudUltra owner in a zone) offers. */
export interface Catalog {
  flavors: FlavorRec[];
  networks: NetworkRec[];
  routers: RouterRec[];
  securityGroups: NamedRec[];
  volumeTypes: VolumeTypeRec[];
  storages: StorageRec[];
}

export interface Scope {
  /** names are unique and resources live within one scope */
  key: string;
  /** whose quota the scope's resources count against */
  quotaKey: string;
  catalog: Catalog;
}

export type QuotaName = 'instances' | 'cores' | 'ramMiB' | 'volumes' | 'volumeGiB' | 'snapshots' | 'publicIps' | 'bandwidthMbps';
export type QuotaLimits = Record<QuotaName, number>;

export interface VolumeRec {
  id: string;
  scope: Scope;
  name: string;
  sizeGiB: number;
  status: 'creating' | 'available' | 'in-use' | 'error';
  volumeTypeId?: string;
  bootable: boolean;
  file: string;
  attachment?: { serverId: string; device: string };
  createdAt: string;
}

export interface SnapshotRec {
  id: string;
  scope: Scope;
  name: string;
  volumeId: string;
  sizeGiB: number;
  status: 'creating' | 'available';
  createdAt: string;
}

export interface ServerRec {
  id: string;
  scope: Scope;
  name: string;
  status: 'BUILD' | 'ACTIVE' | 'ERROR';
  flavorId?: string;
  vcpus: number;
  sockets: number;
  ramMiB: number;
  networkId: string;
  subnetId: string;
  ip: string;
  securityGroupId?: string;
  routerId?: string;
  publicIp?: string;
  bandwidthMbps?: number;
  bootVolumeId: string;
  fault?: { code: string; message: string };
  createdAt: string;
}

export type IdKind = 'server' | 'volume' | 'snapshot';

export class CloudState {
  readonly volumes = new Map<string, VolumeRec>();
  readonly snapshots = new Map<string, SnapshotRec>();
  readonly servers = new Map<string, ServerRec>();
  readonly quotas = new Map<string, QuotaLimits>();

  constructor(
    readonly files: VolumeFiles,
    readonly newId: (kind: IdKind) => string,
  ) {}

  volume(scope: Scope, id: string): VolumeRec {
    const v = this.volumes.get(id);
    if (!v || v.scope.key !== scope.key) throw notFound(`volume ${id} does not exist`);
    return v;
  }

  snapshot(scope: Scope, id: string): SnapshotRec {
    const s = this.snapshots.get(id);
    if (!s || s.scope.key !== scope.key) throw notFound(`snapshot ${id} does not exist`);
    return s;
  }

  server(scope: Scope, id: string): ServerRec {
    const s = this.servers.get(id);
    if (!s || s.scope.key !== scope.key) throw notFound(`server ${id} does not exist`);
    return s;
  }

  inScope<T extends { scope: Scope }>(map: Map<string, T>, scope: Scope): T[] {
    return [...map.values()].filter((r) => r.scope.key === scope.key);
  }

  /** the volumes attached to a server, boot volume first */
  volumesOf(server: ServerRec): VolumeRec[] {
    const attached = [...this.volumes.values()].filter((v) => v.attachment?.serverId === server.id);
    return attached.sort((a, b) => (a.id === server.bootVolumeId ? -1 : b.id === server.bootVolumeId ? 1 : 0));
  }
}

export const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Runs `fn` after `ms` without keeping the process alive. */
export function later(ms: number, fn: () => void | Promise<void>): void {
  setTimeout(() => void Promise.resolve().then(fn).catch(() => undefined), ms).unref();
}

/** How long the asynchronous states last. */
export const TIMINGS = { volumeCreateMs: 300, snapshotCreateMs: 300, serverBootMs: 800 };
