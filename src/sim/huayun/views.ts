/** Records as Huayun's wire JSON (docs/clouds/huayun.md). */
import type { CloudState, FlavorRec, NetworkRec, RouterRec, Scope, ServerRec, SnapshotRec, VolumeRec } from '../signed-api/cloud-state.js';
import { usageOf } from '../signed-api/quota.js';
import { volumeFields } from '../signed-api/views.js';
import type { Region } from './seed.js';

export const regionView = (r: Region) => ({ RegionId: r.id, RegionName: r.name, Enabled: r.enabled });
export const flavorView = (f: FlavorRec) => ({ FlavorId: f.id, Name: f.name, VCpus: f.vcpus, MemoryMiB: f.ramMiB, DiskGiB: f.diskGiB, Series: f.series });
export const vpcView = (n: NetworkRec) => ({
  VpcId: n.id,
  Name: n.name,
  Cidr: n.cidr,
  Subnets: n.subnets.map((s) => ({ SubnetId: s.id, Name: s.name, Cidr: s.cidr, GatewayIp: s.gatewayIp, VpcId: n.id })),
});
export const routerView = (r: RouterRec) => ({ RouterId: r.id, Name: r.name, VpcId: r.networkId, ExternalGateway: r.externalGateway });
export { securityGroupView, storageView, volumeTypeView, addressViews as privateIpViews } from '../signed-api/views.js';

export function quotaView(state: CloudState, scope: Scope) {
  const limits = state.quotas.get(scope.quotaKey)!;
  const used = usageOf(state, scope.quotaKey);
  const item = (name: keyof typeof used) => ({ Limit: limits[name], Used: used[name] });
  return {
    Instances: item('instances'),
    Cores: item('cores'),
    MemoryMiB: item('ramMiB'),
    Volumes: item('volumes'),
    VolumeGiB: item('volumeGiB'),
    Snapshots: item('snapshots'),
    PublicIps: item('publicIps'),
    BandwidthMbps: item('bandwidthMbps'),
  };
}

export const volumeView = (v: VolumeRec) => ({ ...volumeFields(v), RegionId: v.scope.key, CreatedAt: v.createdAt });

export const snapshotView = (s: SnapshotRec) => ({ SnapshotId: s.id, Name: s.name, VolumeId: s.volumeId, SizeGiB: s.sizeGiB, Status: s.status, RegionId: s.scope.key, CreatedAt: s.createdAt });

export function serverView(state: CloudState, s: ServerRec) {
  const vpc = s.scope.catalog.networks.find((n) => n.id === s.networkId)!;
  return {
    ServerId: s.id,
    Name: s.name,
    Status: s.status,
    FlavorId: s.flavorId ?? null,
    VCpus: s.vcpus,
    MemoryMiB: s.ramMiB,
    Nics: [{ VpcId: vpc.id, VpcName: vpc.name, SubnetId: s.subnetId, PrivateIp: s.ip }],
    SecurityGroupId: s.securityGroupId ?? null,
    RouterId: s.routerId ?? null,
    PublicIp: s.publicIp ?? null,
    BandwidthMbps: s.bandwidthMbps ?? null,
    Volumes: state.volumesOf(s).map((v) => ({ VolumeId: v.id, Device: v.attachment!.device })),
    Fault: s.fault ? { Code: s.fault.code, Message: s.fault.message } : null,
    RegionId: s.scope.key,
    CreatedAt: s.createdAt,
  };
}
