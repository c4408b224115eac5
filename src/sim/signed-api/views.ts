/** Records as the wire JSON both AK/SK contracts share (docs/clouds/huayun.md, docs/clouds/cloudultra.md). */
import { addressesOf } from './addresses.js';
import type { CloudState, NamedRec, NetworkRec, Scope, StorageRec, VolumeRec, VolumeTypeRec } from './cloud-state.js';
import { freeGiB } from './storage-usage.js';

export const securityGroupView = (g: NamedRec) => ({ SecurityGroupId: g.id, Name: g.name, Description: g.description ?? '' });
export const volumeTypeView = (t: VolumeTypeRec) => ({ VolumeTypeId: t.id, Name: t.name, StorageId: t.storageId });
export const storageView = (state: CloudState, scope: Scope) => (s: StorageRec) => ({ StorageId: s.id, Name: s.name, Type: s.type, TotalGiB: s.totalGiB, FreeGiB: freeGiB(state, scope, s) });

/** The IPs in use on a network: Huayun's PrivateIps, CloudUltra's Ips. */
export const addressViews = (state: CloudState, scope: Scope, network: NetworkRec) =>
  addressesOf(state, scope, network).map((a) => ({ Ip: a.ip, SubnetId: a.subnetId, Use: a.use, ServerId: a.serverId ?? null }));

/** A volume's fields before its scope ones, which the contracts name apart. */
export const volumeFields = (v: VolumeRec) => ({
  VolumeId: v.id,
  Name: v.name,
  SizeGiB: v.sizeGiB,
  Status: v.status,
  VolumeTypeId: v.volumeTypeId ?? null,
  Bootable: v.bootable,
  Attachments: v.attachment ? [{ ServerId: v.attachment.serverId, Device: v.attachment.device }] : [],
});
