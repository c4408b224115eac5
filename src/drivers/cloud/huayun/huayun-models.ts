/** The Huayun wire shapes of docs/clouds/huayun.md, and how they become Ferry's cloud types. */
import { z } from 'zod';
import type { Flavor, Network, NamedRef, Quota, Server, Snapshot, Storage, Volume, VolumeType } from '../cloud-driver.js';

const limit = z.object({ Limit: z.number(), Used: z.number() });

export const account = z.object({ AccountId: z.string(), AccountName: z.string(), AccessKey: z.string() });
export const region = z.object({ RegionId: z.string(), RegionName: z.string(), Enabled: z.boolean() });
export const flavor = z.object({ FlavorId: z.string(), Name: z.string(), VCpus: z.number(), MemoryMiB: z.number(), DiskGiB: z.number(), Series: z.string() });
const subnet = z.object({ SubnetId: z.string(), Name: z.string(), Cidr: z.string(), GatewayIp: z.string().nullish() });
export const vpc = z.object({ VpcId: z.string(), Name: z.string(), Cidr: z.string(), Subnets: z.array(subnet) });
export const router = z.object({ RouterId: z.string(), Name: z.string(), VpcId: z.string(), ExternalGateway: z.boolean() });
export const securityGroup = z.object({ SecurityGroupId: z.string(), Name: z.string() });
export const volumeType = z.object({ VolumeTypeId: z.string(), Name: z.string(), StorageId: z.string().nullish() });
export const storage = z.object({ StorageId: z.string(), Name: z.string(), Type: z.string(), TotalGiB: z.number(), FreeGiB: z.number() });
export const quota = z.object({ Instances: limit, Cores: limit, MemoryMiB: limit, Volumes: limit, VolumeGiB: limit, Snapshots: limit });
export const volume = z.object({
  VolumeId: z.string(),
  Name: z.string(),
  SizeGiB: z.number(),
  Status: z.string(),
  VolumeTypeId: z.string().nullish(),
  Bootable: z.boolean(),
  Attachments: z.array(z.object({ ServerId: z.string(), Device: z.string() })),
});
export const attachment = z.object({ ServerId: z.string(), VolumeId: z.string(), Device: z.string() });
export const snapshot = z.object({ SnapshotId: z.string(), Name: z.string(), VolumeId: z.string(), SizeGiB: z.number(), Status: z.string(), CreatedAt: z.string() });
export const server = z.object({
  ServerId: z.string(),
  Name: z.string(),
  Status: z.string(),
  Nics: z.array(z.object({ VpcId: z.string(), VpcName: z.string(), SubnetId: z.string(), PrivateIp: z.string() })),
  Fault: z.object({ Code: z.string(), Message: z.string() }).nullish(),
});
export const privateIp = z.object({ Ip: z.string(), SubnetId: z.string(), Use: z.string() });

export type HuayunFlavor = z.output<typeof flavor>;

export const toRegion = (r: z.output<typeof region>): NamedRef => ({ id: r.RegionId, name: r.RegionName });
export const toFlavor = (f: HuayunFlavor): Flavor => ({ id: f.FlavorId, name: f.Name, vcpus: f.VCpus, ramMiB: f.MemoryMiB, diskGiB: f.DiskGiB });
export const toNetwork = (v: z.output<typeof vpc>): Network => ({
  id: v.VpcId,
  name: v.Name,
  subnets: v.Subnets.map((s) => ({ id: s.SubnetId, name: s.Name, networkId: v.VpcId, cidr: s.Cidr, ...(s.GatewayIp ? { gatewayIp: s.GatewayIp } : {}) })),
});
export const toVolumeType = (t: z.output<typeof volumeType>): VolumeType => ({ id: t.VolumeTypeId, name: t.Name, ...(t.StorageId ? { backend: t.StorageId } : {}) });
export const toStorage = (s: z.output<typeof storage>): Storage => ({ id: s.StorageId, name: s.Name, type: s.Type, totalGiB: s.TotalGiB, freeGiB: s.FreeGiB });

export function toQuota(q: z.output<typeof quota>): Quota {
  const item = (l: z.output<typeof limit>) => ({ limit: l.Limit, used: l.Used });
  return { cores: item(q.Cores), ramMiB: item(q.MemoryMiB), instances: item(q.Instances), volumes: item(q.Volumes), volumeGiB: item(q.VolumeGiB), snapshots: item(q.Snapshots) };
}

export const toVolume = (v: z.output<typeof volume>): Volume => ({
  id: v.VolumeId,
  name: v.Name,
  sizeGiB: v.SizeGiB,
  status: v.Status,
  ...(v.VolumeTypeId ? { volumeTypeId: v.VolumeTypeId } : {}),
  attachedTo: v.Attachments.map((a) => a.ServerId),
  bootable: v.Bootable,
});

export const toSnapshot = (s: z.output<typeof snapshot>): Snapshot => ({ id: s.SnapshotId, name: s.Name, volumeId: s.VolumeId, sizeGiB: s.SizeGiB, status: s.Status, createdAt: s.CreatedAt });

export function toServer(s: z.output<typeof server>): Server {
  const addresses: Record<string, string[]> = {};
  for (const nic of s.Nics) (addresses[nic.VpcName] ??= []).push(nic.PrivateIp);
  return { id: s.ServerId, name: s.Name, status: s.Status, addresses, ...(s.Fault ? { fault: `${s.Fault.Code}: ${s.Fault.Message}` } : {}) };
}

/**
 * The flavor for vcpus + ramMiB: an exact match (the STANDARD series first), else the smallest
 * that holds both. Huayun only boots its own flavors.
 */
export function pickFlavor(flavors: HuayunFlavor[], vcpus: number, ramMiB: number): HuayunFlavor | undefined {
  const fits = flavors.filter((f) => f.VCpus >= vcpus && f.MemoryMiB >= ramMiB);
  const rank = (f: HuayunFlavor) => [f.VCpus === vcpus && f.MemoryMiB === ramMiB ? 0 : 1, f.VCpus, f.MemoryMiB, f.Series === 'STANDARD' ? 0 : 1];
  return fits.sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
    return 0;
  })[0];
}
