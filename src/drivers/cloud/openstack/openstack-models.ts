/** The OpenStack API's JSON shapes Ferry reads, and their mapping to the driver's models. */
import type { Flavor, QuotaItem, Server, Snapshot, Storage, Subnet, Volume, VolumeType } from '../cloud-driver.js';

export interface NovaFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}
export interface NovaServer {
  id: string;
  name: string;
  status: string;
  'OS-EXT-STS:task_state'?: string | null;
  addresses?: Record<string, { addr: string }[]>;
  fault?: { message?: string };
}
export interface NeutronPort {
  id: string;
  device_id: string;
}
export interface NeutronSubnet {
  id: string;
  name: string;
  network_id: string;
  cidr: string;
  gateway_ip?: string | null;
}
export interface CinderVolume {
  id: string;
  name: string | null;
  size: number;
  status: string;
  volume_type?: string | null;
  bootable?: string | boolean;
  attachments?: { server_id: string }[];
}
export interface CinderType {
  id: string;
  name: string;
  extra_specs?: Record<string, string>;
}
export interface CinderSnapshot {
  id: string;
  name: string | null;
  volume_id: string;
  size: number;
  status: string;
  created_at: string;
}
export interface CinderPool {
  name: string;
  capabilities?: { volume_backend_name?: string; storage_protocol?: string; total_capacity_gb?: number | string; free_capacity_gb?: number | string };
}
export interface QuotaDetail {
  limit: number;
  in_use: number;
  reserved?: number;
}

export const toFlavor = (f: NovaFlavor): Flavor => ({ id: f.id, name: f.name, vcpus: f.vcpus, ramMiB: f.ram, diskGiB: f.disk });

export const toServer = (s: NovaServer): Server => ({
  id: s.id,
  name: s.name,
  status: s.status,
  addresses: Object.fromEntries(Object.entries(s.addresses ?? {}).map(([net, addrs]) => [net, addrs.map((a) => a.addr)])),
  fault: s.fault?.message,
});

/** A server on its way out: being deleted, soft-deleted (reclaimed later), or DELETED. */
export const isLeaving = (s: NovaServer): boolean => s.status === 'DELETED' || s.status === 'SOFT_DELETED' || s['OS-EXT-STS:task_state'] === 'deleting';

export const toSubnet = (s: NeutronSubnet): Subnet => ({ id: s.id, name: s.name, networkId: s.network_id, cidr: s.cidr, gatewayIp: s.gateway_ip ?? undefined });

export const toVolume = (v: CinderVolume): Volume => ({
  id: v.id,
  name: v.name ?? '',
  sizeGiB: v.size,
  status: v.status,
  volumeTypeId: v.volume_type ?? undefined,
  attachedTo: (v.attachments ?? []).map((a) => a.server_id),
  bootable: v.bootable === true || v.bootable === 'true',
});

export const toVolumeType = (t: CinderType): VolumeType => ({ id: t.id, name: t.name, backend: t.extra_specs?.volume_backend_name });

export const toSnapshot = (s: CinderSnapshot): Snapshot => ({ id: s.id, name: s.name ?? '', volumeId: s.volume_id, sizeGiB: s.size, status: s.status, createdAt: s.created_at });

/** Cinder reports "infinite" or "unknown" capacities as strings. */
const gib = (value: number | string | undefined): number | undefined => (typeof value === 'number' ? value : undefined);

export const toStorage = (p: CinderPool): Storage => ({
  id: p.name,
  name: p.capabilities?.volume_backend_name ?? p.name,
  type: p.capabilities?.storage_protocol ?? '',
  totalGiB: gib(p.capabilities?.total_capacity_gb),
  freeGiB: gib(p.capabilities?.free_capacity_gb),
});

export const toQuotaItem = (q: QuotaDetail | undefined): QuotaItem => ({ limit: q?.limit ?? -1, used: (q?.in_use ?? 0) + (q?.reserved ?? 0) });
