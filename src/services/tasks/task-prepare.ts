import { ref, type EntityName, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ActionState, CloudConnection, HostVolume, SourceHost, Task, TransportServer, TransportServType, VolumeUseType } from '../../../entities/index.js';
import { fail, ok, type Result } from '../errors.js';
import { checkInstanceSpec, checkInterval, checkMaxSnaps, checkPriority, checkQos, checkStartTime, checkTaskName, type NewTaskInput } from './task-input.js';
import { UUID } from '../../util/uuid.js';

const GiB = 1024 ** 3;

/** A new task's columns and volumes, checked against what Ferry stores (the cloud is checked apart). */
export interface PreparedTask {
  columns: Partial<Task> & Pick<Task, 'name' | 'intervalMinutes' | 'maxSnapsNum' | 'startTime' | 'sourceHost' | 'cloud' | 'targetTransport'>;
  host: SourceHost;
  target: TransportServer;
  volumes: { volumeName: string; volumeType?: string; volumeSizeGb: number; cloudVolumeName?: string; preAlloc: boolean; boot: boolean; sizeBytes: string; position: number }[];
}

/** A stored row by id; an id that is not a UUID names none (and never reaches SQL). */
const byId = <T extends object>(em: EntityManager, entity: EntityName<T>, id: string | undefined): Promise<T | null> =>
  id && UUID.test(id) ? em.findOne(entity, { id } as FilterQuery<T>) : Promise.resolve(null);

/** Every rule of PrepareTaskWorkload that needs no cloud call, in the order a user fixes them. */
export async function prepareTask(em: EntityManager, input: NewTaskInput): Promise<Result<PreparedTask>> {
  const name = checkTaskName(input.name);
  if (!name.ok) return name;
  if (await em.count(Task, { name: name.value })) return fail('CONFLICT', `A task named "${name.value}" already exists.`, 'Name');
  for (const checked of [checkPriority(input.priority ?? 0), checkInterval(input.intervalMinutes), checkMaxSnaps(input.maxSnapsNum), checkQos(input.qosLimit)]) if (!checked.ok) return checked;
  const startTime = checkStartTime(input.startTime);
  if (!startTime.ok) return startTime;
  const spec = checkInstanceSpec(input);
  if (!spec.ok) return spec;

  const host = await byId(em, SourceHost, input.hostId);
  if (!host) return fail('NOT_FOUND', `HostId names no source host (got "${String(input.hostId).slice(0, 64)}").`, 'HostId');
  if (host.missing) return fail('INVALID_INPUT', `VM "${host.name}" is no longer in its vSphere platform's inventory.`, 'HostId');
  const busy = await em.findOne(Task, { sourceHost: host, actionState: { $nin: [ActionState.Completed, ActionState.Stopped] } });
  if (busy) return fail('CONFLICT', `Source host "${host.name}" is already being migrated by task "${busy.name}".`, 'HostId');
  const cloud = await byId(em, CloudConnection, input.cloudId);
  if (!cloud) return fail('NOT_FOUND', `CloudId names no cloud connection (got "${String(input.cloudId).slice(0, 64)}").`, 'CloudId');

  const target = await byId(em, TransportServer, input.targetTransId);
  if (!target) return fail('NOT_FOUND', `TargetTransId names no transport server (got "${String(input.targetTransId).slice(0, 64)}").`, 'TargetTransId');
  if (target.servType !== TransportServType.Cloud || target.cloud?.id !== cloud.id) return fail('INVALID_INPUT', `TargetTransId must be a Cloud transport server of cloud "${cloud.name}"; "${target.name}" is not.`, 'TargetTransId');
  if (!target.cloudServerId) return fail('INVALID_INPUT', `Transport server "${target.name}" does not report its own server in the cloud, so task volumes cannot be attached to it: start it with --cloud-server-id and refresh it.`, 'TargetTransId');
  // protocol v1 has no relay between transports: the one that copies must reach the agent itself
  // (a VM's platform is checked by a call to the transport, in the service)
  if (host.agent && host.transport?.id !== target.id) {
    return fail('INVALID_INPUT', `Host "${host.name}" is reached through another transport server; in this version the target transport must be the one the host was added through.`, 'TargetTransId');
  }
  const src = input.srcTransId ? await byId(em, TransportServer, input.srcTransId) : null;
  if (input.srcTransId && (!src || src.servType !== TransportServType.OnPremises)) return fail('INVALID_INPUT', `SrcTransId must name an On-Premises transport server (got "${input.srcTransId.slice(0, 64)}").`, 'SrcTransId');

  const volumes = chooseVolumes(await host.volumes.loadItems(), input);
  if (!volumes.ok) return volumes;
  return ok({
    host,
    target,
    volumes: volumes.value,
    columns: {
      name: name.value,
      priority: input.priority ?? 0,
      sourceHost: ref(host),
      cloud: ref(cloud),
      srcTransport: src ? ref(src) : undefined,
      targetTransport: ref(target),
      storageId: input.storageId || undefined,
      intervalMinutes: input.intervalMinutes,
      maxSnapsNum: input.maxSnapsNum,
      startTime: startTime.value,
      isCompressed: input.isCompressed ?? false,
      qosLimit: input.qosLimit ?? 0,
      flavorId: spec.value.flavorId || undefined,
      networkId: spec.value.networkId || undefined,
      subnetId: spec.value.subnetId || undefined,
      routeId: spec.value.routeId || undefined,
      securityGroupId: spec.value.securityGroupId || undefined,
      aggregateId: spec.value.aggregateId || undefined,
      cpu: spec.value.cpu,
      sockets: spec.value.sockets,
      memory: spec.value.memory,
      bandwidth: spec.value.bandwidth,
      targetServerName: spec.value.targetServerName,
    },
  });
}

/** The disks to copy: those named in VolumeInfos (all of the host's when none is), each big enough and migratable. */
function chooseVolumes(hostVolumes: HostVolume[], input: NewTaskInput): Result<PreparedTask['volumes']> {
  const wanted: NewTaskInput['volumes'] = input.volumes.length ? input.volumes : hostVolumes.map((v) => ({ volumeName: v.path }));
  const chosen: PreparedTask['volumes'] = [];
  const seen = new Set<string>();
  for (const w of wanted) {
    const source = hostVolumes.find((v) => v.path === w.volumeName);
    if (!source) return fail('INVALID_INPUT', `VolumeName "${w.volumeName}" is not a disk of the host (it has ${hostVolumes.map((v) => v.path).join(', ') || 'none'}).`, 'VolumeName');
    if (seen.has(source.path)) return fail('INVALID_INPUT', `VolumeName "${source.path}" is given twice.`, 'VolumeName');
    seen.add(source.path);
    if (source.canNotBeMigrated) return fail('INVALID_INPUT', `Disk ${source.path} cannot be migrated: ${source.canNotBeMigratedReason ?? 'see GetPackerHost'}.`, 'VolumeName');
    const minimum = Math.max(1, Math.ceil(Number(source.capacity) / GiB));
    const size = w.volumeSize ?? minimum;
    if (!Number.isInteger(size) || size < minimum || size > 65536) return fail('INVALID_INPUT', `VolumeSize of ${source.path} must be a whole number of GB from ${minimum} (the disk's size) to 65536 (got ${size}).`, 'VolumeSize');
    const w2 = w;
    if (w2.cloudVolumeName !== undefined && !/^[^\u0000-\u001f\u007f]{1,255}$/u.test(w2.cloudVolumeName)) return fail('INVALID_INPUT', 'CloudVolumeName must be 1–255 characters without control characters.', 'CloudVolumeName');
    chosen.push({
      volumeName: source.path,
      volumeType: w2.volumeType || undefined,
      volumeSizeGb: size,
      cloudVolumeName: w2.cloudVolumeName || undefined,
      preAlloc: w2.preAlloc ?? false,
      boot: source.useType === VolumeUseType.Boot,
      sizeBytes: source.capacity,
      position: chosen.length,
    });
  }
  if (!chosen.length) return fail('INVALID_INPUT', 'VolumeInfos is empty and the host reports no disk.', 'VolumeInfos');
  const names = chosen.map((v) => v.cloudVolumeName).filter(Boolean);
  if (new Set(names).size !== names.length) return fail('INVALID_INPUT', 'CloudVolumeName must differ between the volumes of a task.', 'CloudVolumeName');
  if (!chosen.some((v) => v.boot)) chosen[0].boot = true; // a host whose boot disk the agent could not tell: its first disk boots
  return ok(chosen);
}
