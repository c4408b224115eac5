/** Records as CloudUltra 4's wire JSON (docs/clouds/cloudultra.md). */
import type { CloudState, FlavorRec, NetworkRec, Scope, ServerRec, SnapshotRec, VolumeRec } from '../signed-api/cloud-state.js';
import { usageOf } from '../signed-api/quota.js';
import { volumeFields } from '../signed-api/views.js';
import type { Environment, Owner, Zone } from './seed.js';

/** OwnerId and ZoneId of a scope keyed `${ownerId}/${zoneId}` */
const where = (scope: Scope) => {
  const [OwnerId, ZoneId] = scope.key.split('/');
  return { OwnerId, ZoneId };
};

export const ownerView = (o: Owner) => ({ OwnerId: o.id, Name: o.name, Description: o.description });
export const environmentView = (e: Environment) => ({ EnvironmentId: e.id, Name: e.name, HypervisorType: e.hypervisor });
export const zoneView = (z: Zone) => ({ ZoneId: z.id, Name: z.name, EnvironmentId: z.environmentId });
export const flavorView = (f: FlavorRec) => ({ FlavorId: f.id, Name: f.name, Cpu: f.vcpus, MemoryMiB: f.ramMiB, DiskGiB: f.diskGiB });
export const networkView = (n: NetworkRec) => ({
  NetworkId: n.id,
  Name: n.name,
  Cidr: n.cidr,
  Subnets: n.subnets.map((s) => ({ SubnetId: s.id, Name: s.name, Cidr: s.cidr, GatewayIp: s.gatewayIp, NetworkId: n.id })),
});
export { securityGroupView, storageView, volumeTypeView, addressViews as ipViews } from '../signed-api/views.js';

export function quotaView(state: CloudState, scope: Scope) {
  const limits = state.quotas.get(scope.quotaKey)!;
  const used = usageOf(state, scope.quotaKey);
  const item = (name: keyof typeof used) => ({ Limit: limits[name], Used: used[name] });
  return { Instances: item('instances'), Cpu: item('cores'), MemoryMiB: item('ramMiB'), Volumes: item('volumes'), VolumeGiB: item('volumeGiB'), Snapshots: item('snapshots') };
}

export const volumeView = (v: VolumeRec) => ({ ...volumeFields(v), ...where(v.scope), CreatedAt: v.createdAt });

export const snapshotView = (s: SnapshotRec) => ({ SnapshotId: s.id, Name: s.name, VolumeId: s.volumeId, SizeGiB: s.sizeGiB, Status: s.status, ...where(s.scope), CreatedAt: s.createdAt });

export function serverView(state: CloudState, s: ServerRec) {
  const network = s.scope.catalog.networks.find((n) => n.id === s.networkId)!;
  return {
    ServerId: s.id,
    Name: s.name,
    Status: s.status,
    FlavorId: s.flavorId ?? null,
    Cpu: s.vcpus,
    Sockets: s.sockets,
    MemoryMiB: s.ramMiB,
    Nics: [{ NetworkId: network.id, NetworkName: network.name, SubnetId: s.subnetId, Ip: s.ip }],
    SecurityGroupId: s.securityGroupId ?? null,
    Volumes: state.volumesOf(s).map((v) => ({ VolumeId: v.id, Device: v.attachment!.device })),
    Fault: s.fault ? { Code: s.fault.code, Message: s.fault.message } : null,
    ...where(s.scope),
    CreatedAt: s.createdAt,
  };
}
