import { conflict } from './api-error.js';
import { later, nowIso, TIMINGS, type CloudState, type Scope, type SnapshotRec } from './cloud-state.js';
import { requireQuota } from './quota.js';

/** A snapshot in `creating`, `available` a moment later (the simulator keeps no copy of the data). */
export function createSnapshot(state: CloudState, scope: Scope, volumeId: string, name: string): SnapshotRec {
  const volume = state.volume(scope, volumeId);
  if (volume.status !== 'available' && volume.status !== 'in-use') throw conflict(`volume ${volumeId} is ${volume.status}: it cannot be snapshotted now`);
  requireQuota(state, scope.quotaKey, { snapshots: 1 });
  const snapshot: SnapshotRec = { id: state.newId('snapshot'), scope, name, volumeId, sizeGiB: volume.sizeGiB, status: 'creating', createdAt: nowIso() };
  state.snapshots.set(snapshot.id, snapshot);
  later(TIMINGS.snapshotCreateMs, () => {
    snapshot.status = 'available';
  });
  return snapshot;
}

export function deleteSnapshot(state: CloudState, scope: Scope, id: string): void {
  const snapshot = state.snapshot(scope, id);
  if (snapshot.status === 'creating') throw conflict(`snapshot ${id} is still being created`);
  state.snapshots.delete(id);
}
