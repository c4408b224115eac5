/** The wire shapes docs/clouds/huayun.md and docs/clouds/cloudultra.md share, and how they become Ferry's cloud types. */
import { z } from 'zod';
import type { Attachment, NamedRef, Network, Quota, Server, Snapshot, Storage, Volume, VolumeType } from '../cloud-driver.js';

export const limit = z.object({ Limit: z.number(), Used: z.number() });
/** The quota's limits after Instances and the cores one, which the contracts name apart (Cores, Cpu). */
export const quotaLimits = { MemoryMiB: limit, Volumes: limit, VolumeGiB: limit, Snapshots: limit };
export const subnet = z.object({ SubnetId: z.string(), Name: z.string(), Cidr: z.string(), GatewayIp: z.string().nullish() });
export const securityGroup = z.object({ SecurityGroupId: z.string(), Name: z.string() });
export const volumeType = z.object({ VolumeTypeId: z.string(), Name: z.string(), StorageId: z.string().nullish() });
export const storage = z.object({ StorageId: z.string(), Name: z.string(), Type: z.string(), TotalGiB: z.number(), FreeGiB: z.number() });
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
/** An IP in use on a network: Huayun's PrivateIps, CloudUltra's Ips. */
export const ipInUse = z.object({ Ip: z.string(), SubnetId: z.string(), Use: z.string() });

/** A server whose NICs have the contract's own shape. */
export const serverWith = <N extends z.ZodType>(nic: N) =>
  z.object({ ServerId: z.string(), Name: z.string(), Status: z.string(), Nics: z.array(nic), Fault: z.object({ Code: z.string(), Message: z.string() }).nullish() });

type Limit = z.output<typeof limit>;
type ServerCore = Omit<z.output<ReturnType<typeof serverWith>>, 'Nics'>;

export const toSecurityGroup = (g: z.output<typeof securityGroup>): NamedRef => ({ id: g.SecurityGroupId, name: g.Name });
export const toVolumeType = (t: z.output<typeof volumeType>): VolumeType => ({ id: t.VolumeTypeId, name: t.Name, ...(t.StorageId ? { backend: t.StorageId } : {}) });
export const toStorage = (s: z.output<typeof storage>): Storage => ({ id: s.StorageId, name: s.Name, type: s.Type, totalGiB: s.TotalGiB, freeGiB: s.FreeGiB });
export const toAttachment = (a: z.output<typeof attachment>): Attachment => ({ serverId: a.ServerId, volumeId: a.VolumeId, device: a.Device });

/** A network from its id and name, which the contracts name apart (VpcId, NetworkId). */
export const networkOf = (id: string, name: string, subnets: z.output<typeof subnet>[]): Network => ({
  id,
  name,
  subnets: subnets.map((s) => ({ id: s.SubnetId, name: s.Name, networkId: id, cidr: s.Cidr, ...(s.GatewayIp ? { gatewayIp: s.GatewayIp } : {}) })),
});

/** The quota, given the cores limit apart: its name differs between the contracts. */
export function quotaOf(q: { Instances: Limit; MemoryMiB: Limit; Volumes: Limit; VolumeGiB: Limit; Snapshots: Limit }, cores: Limit): Quota {
  const item = (l: Limit) => ({ limit: l.Limit, used: l.Used });
  return { cores: item(cores), ramMiB: item(q.MemoryMiB), instances: item(q.Instances), volumes: item(q.Volumes), volumeGiB: item(q.VolumeGiB), snapshots: item(q.Snapshots) };
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

/** A server, given its NICs as [network name, IP]: the contracts name those fields apart. */
export function serverOf(s: ServerCore, nics: [network: string, ip: string][]): Server {
  const addresses: Record<string, string[]> = {};
  for (const [network, ip] of nics) (addresses[network] ??= []).push(ip);
  return { id: s.ServerId, name: s.Name, status: s.Status, addresses, ...(s.Fault ? { fault: `${s.Fault.Code}: ${s.Fault.Message}` } : {}) };
}
