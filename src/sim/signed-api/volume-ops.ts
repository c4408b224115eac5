import { conflict, notFound } from './api-error.js';
import { later, nowIso, TIMINGS, type CloudState, type Scope, type ServerRec, type VolumeRec } from './cloud-state.js';
import { requireQuota } from './quota.js';

export interface NewVolume {
  name: string;
  sizeGiB: number;
  volumeTypeId?: string;
  bootable: boolean;
}

/** A volume in `creating`, `available` a moment later; its sparse file exists from the start. */
export async function createVolume(state: CloudState, scope: Scope, input: NewVolume): Promise<VolumeRec> {
  if (state.inScope(state.volumes, scope).some((v) => v.name === input.name)) throw conflict(`a volume named ${input.name} already exists`);
  if (input.volumeTypeId !== undefined && !scope.catalog.volumeTypes.some((t) => t.id === input.volumeTypeId)) throw notFound(`volume type ${input.volumeTypeId} does not exist`);
  requireQuota(state, scope.quotaKey, { volumes: 1, volumeGiB: input.sizeGiB });
  const id = state.newId('volume');
  const volumeTypeId = input.volumeTypeId ?? scope.catalog.volumeTypes[0]?.id; // the first type is the default
  const volume: VolumeRec = { id, scope, ...input, volumeTypeId, status: 'creating', file: state.files.pathOf(id), createdAt: nowIso() };
  state.volumes.set(id, volume); // before any await: the name is taken from now on
  try {
    await state.files.create(id, input.sizeGiB);
    later(TIMINGS.volumeCreateMs, () => {
      if (volume.status === 'creating') volume.status = 'available';
    });
  } catch {
    volume.status = 'error';
  }
  return volume;
}

export async function deleteVolume(state: CloudState, scope: Scope, id: string): Promise<void> {
  const volume = state.volume(scope, id);
  if (volume.status === 'in-use') throw conflict(`volume ${id} is attached to server ${volume.attachment?.serverId}: detach it first`);
  if (volume.status === 'creating') throw conflict(`volume ${id} is still being created`);
  const snapshots = [...state.snapshots.values()].filter((s) => s.volumeId === id);
  if (snapshots.length) throw conflict(`volume ${id} has ${snapshots.length} snapshot(s): delete them first`);
  state.volumes.delete(id);
  await state.files.remove(id);
}

/** Attaches at once; the device is the volume's file, so a transport on this machine can write it. */
export function attachVolume(state: CloudState, scope: Scope, serverId: string, volumeId: string): VolumeRec {
  const server = state.server(scope, serverId);
  const volume = state.volume(scope, volumeId);
  if (server.status !== 'ACTIVE') throw conflict(`server ${serverId} is ${server.status}: volumes attach only to an ACTIVE server`);
  if (volume.status !== 'available') throw conflict(`volume ${volumeId} is ${volume.status}: only an available volume can be attached`);
  bind(volume, server);
  return volume;
}

export function detachVolume(state: CloudState, scope: Scope, serverId: string, volumeId: string): void {
  const server = state.server(scope, serverId);
  const volume = state.volume(scope, volumeId);
  if (volume.attachment?.serverId !== server.id) throw notFound(`volume ${volumeId} is not attached to server ${serverId}`);
  if (server.bootVolumeId === volume.id) throw conflict(`volume ${volumeId} is the boot volume of server ${serverId}`);
  volume.attachment = undefined;
  volume.status = 'available';
}

export function bind(volume: VolumeRec, server: ServerRec): void {
  volume.attachment = { serverId: server.id, device: volume.file };
  volume.status = 'in-use';
}
