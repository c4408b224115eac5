import type { CloudDriver, Server } from '../../drivers/cloud/index.js';
import { nullIfGone, serverSettled, volumeDetached } from '../cloud-waits.js';
import { appendEvent } from '../event-log.js';
import { cloudVolumeName, serverName } from '../names.js';
import { inCloud, StepFailure, type StepContext, type StepOutcome, workDone } from '../step-context.js';
import { changeState } from '../task-changes.js';

/**
 * CreateInstance: the volumes leave the transport's server, then the migrated server boots from
 * them (the boot disk first) with the task's flavor or CPU/memory, network, subnet, security group.
 * A server made before a crash is found by its name and awaited, not made twice; one that went to
 * ERROR (ContinueTask after a failed boot) is deleted first, then a new one boots.
 */
export async function bootServer(ctx: StepContext): Promise<StepOutcome> {
  const { em, task, timings } = ctx;
  const cloud = await ctx.cloud();
  const name = serverName(task);
  const existing = await serverToKeep(ctx, cloud, name);
  if (existing) {
    if (task.targetServerId !== existing.id) await appendEvent(em, task, 'instance.created', `server ${existing.name} (${existing.id}) found, made before a restart`, { serverId: existing.id });
    task.targetServerId = existing.id;
    workDone(task);
    return { next: 'await-server', inMs: timings.pollMs };
  }
  // the boot disk first: the server boots from its first volume
  const volumes = [...task.volumes.getItems()].sort((a, b) => Number(b.boot) - Number(a.boot));
  for (const v of volumes) {
    if (!v.cloudVolumeId) throw new StepFailure(`disk ${v.volumeName} has no cloud volume`, false);
    const volume = await inCloud(() => cloud.getVolume(v.cloudVolumeId!));
    for (const server of volume.attachedTo) await inCloud(() => cloud.detachVolume(server, volume.id));
    if (volume.attachedTo.length) await volumeDetached(cloud, volume.id, cloudVolumeName(task, v), timings);
    v.device = undefined;
  }
  if (!task.networkId) throw new StepFailure('no NetworkId is set for the migrated server', false);
  const server = await inCloud(() =>
    cloud.createServer({
      name,
      flavorId: task.flavorId || undefined,
      vcpus: task.flavorId ? undefined : task.cpu,
      ramMiB: task.flavorId || task.memory === undefined ? undefined : task.memory * 1024,
      volumeIds: volumes.map((v) => v.cloudVolumeId!),
      networkId: task.networkId!,
      subnetId: task.subnetId || undefined,
      securityGroupId: task.securityGroupId || undefined,
    }),
  );
  task.targetServerId = server.id;
  workDone(task);
  await appendEvent(em, task, 'instance.created', `server ${server.name} (${server.id}) is being created`, { serverId: server.id });
  return { next: 'await-server', inMs: timings.pollMs };
}

/**
 * The task's server if one exists and may boot on: the one recorded, else one with the server's
 * name (created just before a crash: CreateInstance checked that the name was free). One in ERROR
 * is deleted, and the answer is null: a new one must boot.
 */
async function serverToKeep(ctx: StepContext, cloud: CloudDriver, name: string): Promise<Server | null> {
  const { em, task } = ctx;
  const recorded = task.targetServerId;
  const server = recorded ? await inCloud(() => cloud.getServer(recorded).catch(nullIfGone)) : await inCloud(() => cloud.findServer(name));
  if (!server || server.status !== 'ERROR') return server;
  await inCloud(() => cloud.deleteServer(server.id)); // resolves once the server is gone
  task.targetServerId = undefined;
  await appendEvent(em, task, 'instance.deleted', `server ${server.name} (${server.id}) deleted: it was in ERROR${server.fault ? ` (${server.fault})` : ''}`, { serverId: server.id });
  return null;
}

/** Waits for the migrated server: ACTIVE makes the task succeed and complete; ERROR fails it. */
export async function awaitServer(ctx: StepContext): Promise<StepOutcome> {
  const { em, task } = ctx;
  const cloud = await ctx.cloud();
  const server = await serverSettled(cloud, task.targetServerId!);
  if (!server) return { next: 'await-server', inMs: ctx.timings.pollMs };
  workDone(task);
  await changeState(em, task, 'instance-active', `server ${server.name} is ACTIVE`);
  await changeState(em, task, 'finished');
  return { next: null };
}
