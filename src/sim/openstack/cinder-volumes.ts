import { badRequest, notFound } from './errors.js';
import { newId } from './ids.js';
import { objectAt, parseBool, parsePositiveInt, stringAt, type Json } from './input.js';
import { paginate } from './listing.js';
import { atLeast } from './microversion.js';
import { poolAllocated, reserveVolumeQuota } from './cinder-quotas.js';
import { volumeSummary, volumeView } from './cinder-views.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';
import { AVAILABILITY_ZONE } from './seed.js';
import { DELAYS, type SimState, type Volume, type VolumeType } from './state.js';
import { copySparse, createSparseFile, growFile, removeFile } from './volume-files.js';

/** Cinder v3 volumes: each one a sparse file `<dir>/volumes/<id>.img`. */

export const cinderVolumeRoutes: Route[] = [
  route('GET', '/v3/volumes', (req) => listVolumes(req, false)),
  route('GET', '/v3/volumes/detail', (req) => listVolumes(req, true)),
  route('POST', '/v3/volumes', createVolume),
  route('GET', '/v3/volumes/:id', (req) => ({ status: 200, body: { volume: volumeView(req, findVolume(req.state, req.params.id)) } })),
  route('DELETE', '/v3/volumes/:id', deleteVolume),
  route('POST', '/v3/volumes/:id/action', volumeAction),
];

export function findVolume(state: SimState, id: string): Volume {
  const v = state.volumes.get(id);
  if (!v) throw notFound(`Volume ${id} could not be found.`);
  return v;
}

const LIST_FILTERS = ['name', 'status', 'bootable', 'availability_zone'] as const;

function listVolumes(req: SimRequest, detail: boolean): Reply {
  const fuzzyName = req.query.get('name~'); // 3.34: a "like" filter
  const volumes = [...req.state.volumes.values()]
    .filter((v) => v.projectId === req.projectId)
    .filter((v) => {
      const view = volumeView(req, v) as Json;
      return LIST_FILTERS.every((k) => !req.query.has(k) || String(view[k]) === req.query.get(k)) && (fuzzyName === null || (v.name ?? '').includes(fuzzyName));
    })
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const page = paginate(volumes, req.query, `${req.root}/volumes${detail ? '/detail' : ''}`);
  const items = page.items.map((v) => (detail ? volumeView(req, v) : volumeSummary(req, v)));
  return { status: 200, body: { volumes: items, ...(page.links && { volumes_links: page.links }) } };
}

// properties of the create schema; before 3.53 Cinder ignores any other, from 3.53 it refuses them
const CREATE_PROPERTIES = new Set(['name', 'description', 'display_name', 'display_description', 'volume_type', 'metadata', 'snapshot_id', 'source_volid', 'consistencygroup_id', 'size', 'availability_zone', 'multiattach', 'image_id', 'imageRef', 'group_id', 'backup_id']);

function createVolume(req: SimRequest): Reply {
  const body = objectAt(req.body, 'volume');
  if (!body) throw badRequest("Invalid input for field/attribute volume. Value: None. 'volume' is a required property");
  if (atLeast(req.version, 3, 53)) {
    const extra = Object.keys(body).filter((k) => !CREATE_PROPERTIES.has(k));
    if (extra.length) throw badRequest(`Invalid input for field/attribute volume. Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
  }
  const { state } = req;
  const image = stringAt(body, 'imageRef') ?? stringAt(body, 'image_id');
  if (image) throw notFound(`Image ${image} could not be found.`);
  const source = sourceOf(state, body);
  const size = body.size === undefined || body.size === null ? source?.sizeGiB : parsePositiveInt(body.size);
  if (size === undefined) {
    throw badRequest(`Invalid input received: Invalid volume size provided for create request: ${JSON.stringify(body.size ?? null)} (size argument must be an integer (or string representation of an integer) and greater than zero).`);
  }
  if (source && size < source.sizeGiB) throw badRequest(`Invalid input received: Volume size '${size}'GB cannot be smaller than the ${source.kind} size ${source.sizeGiB}GB. They must be >= original ${source.kind} size.`);
  const az = stringAt(body, 'availability_zone') ?? AVAILABILITY_ZONE;
  if (az !== AVAILABILITY_ZONE) throw badRequest(`Availability zone '${az}' is invalid.`);
  const type = volumeTypeOf(state, body.volume_type);
  reserveVolumeQuota(state, req.projectId, { volumes: 1, gigabytes: size });

  const now = new Date();
  const pool = placement(state, type, size);
  const volume: Volume = {
    id: newId(),
    name: stringAt(body, 'name') ?? stringAt(body, 'display_name') ?? null,
    description: stringAt(body, 'description') ?? stringAt(body, 'display_description') ?? null,
    sizeGiB: size,
    status: 'creating',
    typeId: type.id,
    availabilityZone: az,
    bootable: false,
    host: pool ?? '',
    attachments: [],
    metadata: stringRecord(body.metadata),
    projectId: req.projectId,
    userId: req.token.userId,
    createdAt: now,
    updatedAt: null,
  };
  state.volumes.set(volume.id, volume);
  state.later(DELAYS.volumeCreate, async () => {
    if (!pool) return setStatus(volume, 'error'); // no backend had room: the scheduler gives up
    try {
      if (source) {
        await copySparse(source.file, state.volumeFile(volume.id));
        await growFile(state.volumeFile(volume.id), size);
      } else {
        await createSparseFile(state.volumeFile(volume.id), size);
      }
      volume.bootable = source?.bootable ?? false;
      setStatus(volume, 'available');
    } catch {
      setStatus(volume, 'error');
    }
  });
  return { status: 202, body: { volume: volumeView(req, volume) } };
}

/** A volume made from a snapshot or cloned from a volume copies its file. */
function sourceOf(state: SimState, body: Json) {
  const snapshotId = stringAt(body, 'snapshot_id');
  if (snapshotId) {
    const s = state.snapshots.get(snapshotId);
    if (!s) throw notFound(`Snapshot ${snapshotId} could not be found.`);
    if (s.status !== 'available') throw badRequest(`Invalid snapshot: Originating snapshot status must be one of 'available' values`);
    return { kind: 'snapshot', sizeGiB: s.sizeGiB, file: state.snapshotFile(s.id), bootable: state.volumes.get(s.volumeId)?.bootable ?? false };
  }
  const volumeId = stringAt(body, 'source_volid');
  if (volumeId) {
    const v = findVolume(state, volumeId);
    if (!['available', 'in-use'].includes(v.status)) throw badRequest(`Invalid volume: Unable to clone volumes that are in an error state or status is ${v.status}`);
    return { kind: 'source volume', sizeGiB: v.sizeGiB, file: state.volumeFile(v.id), bootable: v.bootable };
  }
  return undefined;
}

function volumeTypeOf(state: SimState, given: unknown): VolumeType {
  const types = [...state.volumeTypes.values()];
  if (given === undefined || given === null || given === '') return types.find((t) => t.name === '__DEFAULT__')!;
  const name = String(given);
  const type = types.find((t) => t.id === name || t.name === name);
  if (!type) throw notFound(/^[0-9a-f-]{36}$/.test(name) ? `Volume type ${name} could not be found.` : `Volume type with name ${name} could not be found.`);
  return type;
}

/** The pool the scheduler picks: the type's backend, else the one with most room; none when nothing fits. */
function placement(state: SimState, type: VolumeType, size: number): string | undefined {
  const fits = state.pools
    .filter((p) => !type.backend || p.backend === type.backend)
    .map((p) => ({ name: p.name, free: p.totalGiB - poolAllocated(state, p.name) }))
    .filter((p) => p.free >= size)
    .sort((a, b) => b.free - a.free);
  return fits[0]?.name;
}

const stringRecord = (v: unknown): Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {};

export function setStatus(v: { status: string; updatedAt: Date | null }, status: string): void {
  v.status = status;
  v.updatedAt = new Date();
}

const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];

function deleteVolume(req: SimRequest): Reply {
  const { state } = req;
  const volume = findVolume(state, req.params.id);
  const cascade = parseBool(req.query.get('cascade') ?? 'false') === true;
  const snapshots = [...state.snapshots.values()].filter((s) => s.volumeId === volume.id);
  const snapshotsBusy = cascade ? snapshots.some((s) => !['available', 'error'].includes(s.status)) : snapshots.length > 0;
  if (!DELETABLE.includes(volume.status) || volume.attachments.length > 0 || snapshotsBusy) {
    throw badRequest(
      `Invalid volume: Volume status must be ${DELETABLE.join(' or ')} and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.`,
    );
  }
  setStatus(volume, 'deleting');
  for (const s of snapshots) setStatus(s, 'deleting');
  state.later(DELAYS.volumeDelete, async () => {
    for (const s of snapshots) {
      await removeFile(state.snapshotFile(s.id));
      state.snapshots.delete(s.id);
    }
    await removeFile(state.volumeFile(volume.id));
    state.volumes.delete(volume.id);
  });
  return { status: 202 };
}

function volumeAction(req: SimRequest): Reply {
  const volume = findVolume(req.state, req.params.id);
  const body = req.body;
  const [action] = typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.keys(body) : [];
  const args = objectAt(body, action ?? '');
  switch (action) {
    case 'os-set_bootable': {
      const bootable = parseBool(args?.bootable);
      if (bootable === undefined) throw badRequest(`Invalid input for field/attribute bootable. Value: ${JSON.stringify(args?.bootable ?? null)}. ${JSON.stringify(args?.bootable ?? null)} is not of type 'boolean', 'string'`);
      volume.bootable = bootable;
      volume.updatedAt = new Date();
      return { status: 200 };
    }
    case 'os-extend':
      return extendVolume(req, volume, args);
    case 'os-reset_status': {
      const status = stringAt(args, 'status');
      if (!status) throw badRequest("Must specify 'status'");
      setStatus(volume, status);
      return { status: 202 };
    }
    default:
      throw badRequest(`There is no such action: ${action ?? 'None'}`);
  }
}

function extendVolume(req: SimRequest, volume: Volume, args: Json | undefined): Reply {
  const newSize = parsePositiveInt(args?.new_size);
  if (newSize === undefined) throw badRequest(`Invalid input for field/attribute new_size. Value: ${JSON.stringify(args?.new_size ?? null)}.`);
  const allowed = atLeast(req.version, 3, 42) ? ['available', 'in-use'] : ['available'];
  if (!allowed.includes(volume.status)) throw badRequest(`Invalid volume: Volume ${volume.id} status must be '${allowed.join("' or '")}' to extend, currently ${volume.status}.`);
  if (newSize <= volume.sizeGiB) {
    throw badRequest(`Invalid input received: New size for extend must be greater than current size. (current: ${volume.sizeGiB}, extended: ${newSize}).`);
  }
  reserveVolumeQuota(req.state, req.projectId, { gigabytes: newSize - volume.sizeGiB });
  const before = volume.status;
  setStatus(volume, 'extending');
  req.state.later(DELAYS.volumeCreate, async () => {
    try {
      await growFile(req.state.volumeFile(volume.id), newSize);
      volume.sizeGiB = newSize;
      setStatus(volume, before);
    } catch {
      setStatus(volume, 'error_extending');
    }
  });
  return { status: 202 };
}
