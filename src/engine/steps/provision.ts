import { changeState } from '../task-changes.js';
import { volumeAttached, volumeDetached, volumeReady } from '../cloud-waits.js';
import { cloudVolumeName } from '../names.js';
import { inCloud, StepFailure, type StepContext, type StepOutcome, workDone } from '../step-context.js';
import { appendEvent } from '../event-log.js';

/**
 * At StartTime: each disk's cloud volume is found (made before a crash) or created, then
 * attached to the target transport's server; the device it appears as is where copies go.
 */
export async function provision(ctx: StepContext): Promise<StepOutcome> {
  const { task, timings } = ctx;
  const serverId = task.targetTransport.getEntity().cloudServerId;
  if (!serverId) throw new StepFailure(`transport server "${task.targetTransport.getEntity().name}" does not report its server in the cloud (start it with --cloud-server-id), so volumes cannot be attached to it`, false);
  const cloud = await ctx.cloud();
  for (const v of task.volumes.getItems()) {
    const name = cloudVolumeName(task, v);
    if (!v.cloudVolumeId) {
      const existing = await inCloud(() => cloud.findVolume(name));
      const volume = existing ?? (await inCloud(() => cloud.createVolume({ name, sizeGiB: v.volumeSizeGb, volumeTypeId: v.volumeType, bootable: v.boot })));
      v.cloudVolumeId = volume.id;
      v.cloudVolumeName = name;
      await appendEvent(ctx.em, task, 'state.changed', `cloud volume ${name} ${existing ? 'found' : 'created'} for ${v.volumeName} (${v.volumeSizeGb} GB)`, { volumeId: volume.id, disk: v.volumeName });
    }
    if (v.device) continue;
    let volume = await volumeReady(cloud, v.cloudVolumeId, name, timings);
    if (volume.attachedTo.length) {
      // attached before a crash, device unknown: attach again to learn it
      for (const server of volume.attachedTo) await inCloud(() => cloud.detachVolume(server, volume.id));
      volume = await volumeDetached(cloud, volume.id, name, timings);
    }
    const attachment = await inCloud(() => cloud.attachVolume(serverId, volume.id));
    await volumeAttached(cloud, volume.id, name, timings);
    if (!attachment.device) throw new StepFailure(`the cloud attached ${name} to the transport's server without saying as which device`, false);
    v.device = attachment.device;
  }
  workDone(task);
  await changeState(ctx.em, task, 'volumes-ready', `${task.volumes.length} cloud volume${task.volumes.length === 1 ? '' : 's'} attached to transport "${task.targetTransport.getEntity().name}"`);
  return { next: 'cycle' };
}
