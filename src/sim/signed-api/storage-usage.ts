import type { CloudState, Scope, StorageRec } from './cloud-state.js';

/** GiB left on a storage: its size less the volumes whose type maps to it. */
export function freeGiB(state: CloudState, scope: Scope, storage: StorageRec): number {
  const types = new Set(scope.catalog.volumeTypes.filter((t) => t.storageId === storage.id).map((t) => t.id));
  const used = [...state.volumes.values()].filter((v) => v.scope.key === scope.key && v.volumeTypeId && types.has(v.volumeTypeId)).reduce((n, v) => n + v.sizeGiB, 0);
  return Math.max(0, storage.totalGiB - used);
}
