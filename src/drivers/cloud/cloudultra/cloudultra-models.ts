/** The CloudUltra 4 wire shapes of docs/clouds/cloudultra.md, and how they become Ferry's cloud types. */
import { z } from 'zod';
import type { Flavor, Network, NamedRef, Quota, Server, Snapshot, Storage, Volume, VolumeType } from '../cloud-driver.js';

const limit = z.object({ Limit: z.number(), Used: z.number() });

export const user = z.object({ UserId: z.string(), UserName: z.string(), AccessKey: z.string() });
export const owner = z.object({ OwnerId: z.string(), Name: z.string() });
export const environment = z.object({ EnvironmentId: z.string(), Name: z.string(), HypervisorType: z.string() });
export const zone = z.object({ ZoneId: z.string(), Name: z.string(), EnvironmentId: z.string() });
export const flavor = z.object({ FlavorId: z.string(), Name: z.string(), Cpu: z.number(), MemoryMiB: z.number(), DiskGiB: z.number() });
const subnet = z.object({ SubnetId: z.string(), Name: z.string(), Cidr: z.string(), GatewayIp: z.string().nullish() });
export const network = z.object({ NetworkId: z.string(), Name: z.string(), Subnets: z.array(subnet) });
export const securityGroup = z.object({ SecurityGroupId: z.string(), Name: z.string() });
export const volumeType = z.object({ VolumeTypeId: z.string(), Name: z.string(), StorageId: z.string().nullish() });
export const storage = z.object({ StorageId: z.string(), Name: z.string(), Type: z.string(), TotalGiB: z.number(), FreeGiB: z.number() });
export const quota = z.object({ Instances: limit, Cpu: limit, MemoryMiB: limit, Volumes: limit, VolumeGiB: limit, Snapshots: limit });
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
  Nics: z.array(z.object({ NetworkId: z.string(), NetworkName: z.string(), SubnetId: z.string(), Ip: z.string() })),
  Fault: z.object({ Code: z.string(), Message: z.string() }).nullish(),
});
export const ip = z.object({ Ip: z.string(), SubnetId: z.string(), Use: z.string() });

export const toOwner = (o: z.output<typeof owner>): NamedRef => ({ id: o.OwnerId, name: o.Name });
export const toEnvironment = (e: z.output<typeof environment>): NamedRef => ({ id: e.EnvironmentId, name: e.Name });
export const toZone = (zn: z.output<typeof zone>): NamedRef => ({ id: zn.ZoneId, name: zn.Name });
export const toFlavor = (f: z.output<typeof flavor>): Flavor => ({ id: f.FlavorId, name: f.Name, vcpus: f.Cpu, ramMiB: f.MemoryMiB, diskGiB: f.DiskGiB });
export const toNetwork = (n: z.output<typeof network>): Network => ({
  id: n.NetworkId,
  name: n.Name,
  subnets: n.Subnets.map((s) => ({ id: s.SubnetId, name: s.Name, networkId: n.NetworkId, cidr: s.Cidr, ...(s.GatewayIp ? { gatewayIp: s.GatewayIp } : {}) })),
});
export const toVolumeType = (t: z.output<typeof volumeType>): VolumeType => ({ id: t.VolumeTypeId, name: t.Name, ...(t.StorageId ? { backend: t.StorageId } : {}) });
export const toStorage = (s: z.output<typeof storage>): Storage => ({ id: s.StorageId, name: s.Name, type: s.Type, totalGiB: s.TotalGiB, freeGiB: s.FreeGiB });

export function toQuota(q: z.output<typeof quota>): Quota {
  const item = (l: z.output<typeof limit>) => ({ limit: l.Limit, used: l.Used });
  return { cores: item(q.Cpu), ramMiB: item(q.MemoryMiB), instances: item(q.Instances), volumes: item(q.Volumes), volumeGiB: item(q.VolumeGiB), snapshots: item(q.Snapshots) };
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
  for (const nic of s.Nics) (addresses[nic.NetworkName] ??= []).push(nic.Ip);
  return { id: s.ServerId, name: s.Name, status: s.Status, addresses, ...(s.Fault ? { fault: `${s.Fault.Code}: ${s.Fault.Message}` } : {}) };
}
