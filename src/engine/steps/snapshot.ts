import { LastSync, TaskSnapshot } from '../../../entities/index.js';
import { snapshotReady } from '../cloud-waits.js';
import { appendEvent } from '../event-log.js';
import { snapshotName } from '../names.js';
import { inCloud, type StepContext, type StepOutcome, workDone } from '../step-context.js';
import { changeState } from '../task-changes.js';

/**
 * After a copy: one cloud snapshot per volume (found by name when taken before a crash, so never
 * twice), recorded once per copy; then the oldest beyond MaxSnapsNum are deleted.
 */
export async function takeSnapshot(ctx: StepContext): Promise<StepOutcome> {
  const { em, task } = ctx;
  const n = task.snapTimes;
  const cloud = await ctx.cloud();
  let record = await em.findOne(TaskSnapshot, { task, cycle: n });
  if (!record) {
    const ids: Record<string, string> = {};
    for (const v of task.volumes.getItems()) {
      const name = snapshotName(task, n, v);
      const snapshot = (await inCloud(() => cloud.findSnapshot(name))) ?? (await inCloud(() => cloud.createSnapshot(v.cloudVolumeId!, name)));
      await snapshotReady(cloud, snapshot.id, name, ctx.timings);
      ids[v.id] = snapshot.id;
    }
    record = em.create(TaskSnapshot, { task, cycle: n, cloudSnapshotIds: ids });
    await appendEvent(em, task, 'snapshot.created', `snapshot of copy ${n} taken (${Object.keys(ids).length} volume${Object.keys(ids).length === 1 ? '' : 's'})`, { cycle: n, snapshotIds: Object.values(ids) });
  }
  workDone(task);
  await rotate(ctx);
  await changeState(em, task, 'snapshot-taken');
  if (task.lastSync === LastSync.Running) return { next: 'convert' };
  if (task.lastSync === LastSync.Requested) return { next: 'cycle' };
  return { next: 'cycle', inMs: task.intervalMinutes * ctx.timings.minuteMs };
}

/** Keeps the newest MaxSnapsNum snapshots; deleting one already gone in the cloud succeeds. */
async function rotate(ctx: StepContext): Promise<void> {
  const { em, task } = ctx;
  const live = await em.find(TaskSnapshot, { task, deletedAt: null }, { orderBy: { cycle: 'asc' } });
  const cloud = await ctx.cloud();
  for (const old of live.slice(0, Math.max(0, live.length - task.maxSnapsNum))) {
    for (const id of Object.values(old.cloudSnapshotIds)) await inCloud(() => cloud.deleteSnapshot(id));
    old.deletedAt = new Date();
    await appendEvent(em, task, 'snapshot.deleted', `snapshot of copy ${old.cycle} deleted (at most ${task.maxSnapsNum} kept)`, { cycle: old.cycle });
  }
}
