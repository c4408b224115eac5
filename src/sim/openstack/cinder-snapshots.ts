import { badRequest, notFound } from './errors.js';
import { newId } from './ids.js';
import { objectAt, parseBool, stringAt } from './input.js';
import { paginate } from './listing.js';
import { atLeast } from './microversion.js';
import { reserveVolumeQuota } from './cinder-quotas.js';
import { snapshotView } from './cinder-views.js';
import { findVolume, setStatus } from './cinder-volumes.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';
import { DELAYS, type Snapshot } from './state.js';
import { copySparse, removeFile } from './volume-files.js';

/** Cinder v3 snapshots: a sparse copy of the volume's file in `<dir>/snapshots/<id>.img`. */

export const cinderSnapshotRoutes: Route[] = [
  route('GET', '/v3/snapshots', (req) => listSnapshots(req, false)),
  route('GET', '/v3/snapshots/detail', (req) => listSnapshots(req, true)),
  route('POST', '/v3/snapshots', createSnapshot),
  route('GET', '/v3/snapshots/:id', (req) => ({ status: 200, body: { snapshot: snapshotView(req, findSnapshot(req, req.params.id)) } })),
  route('DELETE', '/v3/snapshots/:id', deleteSnapshot),
];

function findSnapshot(req: SimRequest, id: string): Snapshot {
  const s = req.state.snapshots.get(id);
  if (!s) throw notFound(`Snapshot ${id} could not be found.`);
  return s;
}

function listSnapshots(req: SimRequest, detail: boolean): Reply {
  const filters = (['name', 'status', 'volume_id'] as const).filter((k) => req.query.has(k));
  const snapshots = [...req.state.snapshots.values()]
    .filter((s) => s.projectId === req.projectId)
    .filter((s) => filters.every((k) => String(snapshotView(req, s)[k]) === req.query.get(k)))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const page = paginate(snapshots, req.query, `${req.root}/snapshots${detail ? '/detail' : ''}`);
  return { status: 200, body: { snapshots: page.items.map((s) => snapshotView(req, s, detail)), ...(page.links && { snapshots_links: page.links }) } };
}

function createSnapshot(req: SimRequest): Reply {
  const body = objectAt(req.body, 'snapshot');
  if (!body) throw badRequest("Invalid input for field/attribute snapshot. Value: None. 'snapshot' is a required property");
  const volumeId = stringAt(body, 'volume_id');
  if (!volumeId) throw badRequest("Invalid input for field/attribute snapshot. 'volume_id' is a required property");
  const { state } = req;
  const volume = findVolume(state, volumeId);
  const force = body.force === undefined ? false : parseBool(body.force);
  if (force === undefined) throw badRequest(`Invalid value '${String(body.force)}' for force.`);
  // from 3.66 an in-use volume may be snapshotted without force, and force=false is refused
  if (atLeast(req.version, 3, 66) && body.force !== undefined && !force) throw badRequest(`Invalid value '${String(body.force)}' for force. Only 'True' is allowed since 3.66.`);
  const allowed = force || atLeast(req.version, 3, 66) ? ['available', 'in-use'] : ['available'];
  if (!allowed.includes(volume.status)) {
    throw badRequest(`Invalid volume: Volume ${volume.id} status must be ${allowed.join(' or ')}, but current status is: ${volume.status}.`);
  }
  reserveVolumeQuota(state, req.projectId, { snapshots: 1, gigabytes: volume.sizeGiB });
  const snapshot: Snapshot = {
    id: newId(),
    name: stringAt(body, 'name') ?? stringAt(body, 'display_name') ?? null,
    description: stringAt(body, 'description') ?? stringAt(body, 'display_description') ?? null,
    volumeId: volume.id,
    sizeGiB: volume.sizeGiB,
    status: 'creating',
    progress: '0%',
    metadata: {},
    projectId: req.projectId,
    userId: req.token.userId,
    createdAt: new Date(),
    updatedAt: null,
  };
  state.snapshots.set(snapshot.id, snapshot);
  state.later(DELAYS.snapshot, async () => {
    try {
      await copySparse(state.volumeFile(volume.id), state.snapshotFile(snapshot.id));
      snapshot.progress = '100%';
      setStatus(snapshot, 'available');
    } catch {
      setStatus(snapshot, 'error');
    }
  });
  return { status: 202, body: { snapshot: snapshotView(req, snapshot) } };
}

function deleteSnapshot(req: SimRequest): Reply {
  const snapshot = findSnapshot(req, req.params.id);
  if (!['available', 'error'].includes(snapshot.status)) {
    throw badRequest('Invalid snapshot: Volume Snapshot status must be available or error and must not be part of a group.');
  }
  setStatus(snapshot, 'deleting');
  req.state.later(DELAYS.snapshot, async () => {
    await removeFile(req.state.snapshotFile(snapshot.id));
    req.state.snapshots.delete(snapshot.id);
  });
  return { status: 202 };
}
