import { cinderTime } from './ids.js';
import { links } from './input.js';
import { atLeast } from './microversion.js';
import type { SimRequest } from './router.js';
import type { Snapshot, Volume, VolumeType } from './state.js';

/** Cinder v3 resources as the API shows them to an admin, by microversion. */

export function volumeView(req: SimRequest, v: Volume) {
  const type = req.state.volumeTypes.get(v.typeId);
  const version = req.version;
  return {
    id: v.id,
    name: v.name,
    description: v.description,
    status: v.status,
    size: v.sizeGiB,
    availability_zone: v.availabilityZone,
    created_at: cinderTime(v.createdAt),
    updated_at: v.updatedAt && cinderTime(v.updatedAt),
    attachments: v.attachments.map((a) => ({
      id: v.id,
      attachment_id: a.id,
      volume_id: v.id,
      server_id: a.serverId,
      host_name: null,
      device: a.device,
      attached_at: cinderTime(a.attachedAt),
    })),
    links: links(req.root, 'volumes', v.id),
    metadata: { ...v.metadata },
    bootable: String(v.bootable), // Cinder spells it "true" / "false"
    encrypted: false,
    multiattach: false,
    replication_status: null,
    consistencygroup_id: null,
    snapshot_id: null,
    source_volid: null,
    user_id: v.userId,
    volume_type: type?.name ?? null,
    migration_status: null,
    'os-vol-host-attr:host': v.host,
    'os-vol-tenant-attr:tenant_id': v.projectId,
    'os-vol-mig-status-attr:migstat': null,
    'os-vol-mig-status-attr:name_id': null,
    ...(atLeast(version, 3, 13) && { group_id: null }),
    ...(atLeast(version, 3, 21) && { provider_id: null }),
    ...(atLeast(version, 3, 48) && { service_uuid: '1b1ea5f4-4a6e-4a2b-9b39-6b3f1c3bb1a1', shared_targets: false }),
    ...(atLeast(version, 3, 61) && { cluster_name: null }),
    ...(atLeast(version, 3, 63) && { volume_type_id: v.typeId }),
    ...(atLeast(version, 3, 65) && { consumes_quota: true }),
  };
}

export const volumeSummary = (req: SimRequest, v: Volume) => ({ id: v.id, name: v.name, links: links(req.root, 'volumes', v.id) });

export function snapshotView(req: SimRequest, s: Snapshot, detail = true) {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    status: s.status,
    size: s.sizeGiB,
    volume_id: s.volumeId,
    metadata: { ...s.metadata },
    created_at: cinderTime(s.createdAt),
    updated_at: s.updatedAt && cinderTime(s.updatedAt),
    ...(detail && { 'os-extended-snapshot-attributes:progress': s.progress, 'os-extended-snapshot-attributes:project_id': s.projectId }),
    ...(atLeast(req.version, 3, 14) && { group_snapshot_id: null }),
    ...(atLeast(req.version, 3, 41) && { user_id: s.userId }),
    ...(atLeast(req.version, 3, 65) && { consumes_quota: true }),
  };
}

export function typeView(t: VolumeType) {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    is_public: true,
    'os-volume-type-access:is_public': true,
    qos_specs_id: null,
    extra_specs: t.backend ? { volume_backend_name: t.backend } : {},
  };
}
