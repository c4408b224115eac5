import { ActionState, LastSync } from '../../../entities/index.js';
import { DEFAULT_BLOCK_SIZE, type CycleDisk, type CycleKind, type CycleRequest, type CycleStatus, type DiskResult } from '../../transport/protocol.js';
import { appendEvent } from '../event-log.js';
import { cycleIdFor, vmSnapshotName, vmSnapshotPrefix } from '../names.js';
import { completeProgress, publishProgress, resetProgress } from '../progress.js';
import { inTransport, inVsphere, StepFailure, StepWait, type StepContext, type StepOutcome, workDone } from '../step-context.js';
import { changeState } from '../task-changes.js';

/**
 * Starts the next copy on the target transport: the first is full, later ones incremental; after
 * CompleteTask it is the final sync. A copy that failed runs again under a new id, keeping its number.
 * At most MaxSupportedTasks copies run on one transport; the others wait their turn.
 */
export async function startCycle(ctx: StepContext): Promise<StepOutcome> {
  const { em, task } = ctx;
  const transport = task.targetTransport.getEntity();
  const retry = task.actionState === ActionState.WaitSnapshot && task.snapTimes > 0;
  const n = retry ? task.snapTimes : task.snapTimes + 1;
  const cycleId = cycleIdFor(task, n, retry);
  const kind = n === 1 && !retry ? 'full' : 'incremental';
  const disks = task.volumes.getItems().map((v) => ({ disk: v.volumeName, targetPath: v.device! }));
  const source = await sourceOf(ctx, cycleId, kind, disks);
  // the slot is counted after the source is ready (a VM snapshot may take a while), so that other
  // tasks' copies on this transport wait only for this check, not for vSphere
  await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`ferry-transport-slots:${transport.id}`]);
  const [{ running }] = await em.execute<{ running: string }[]>(`select count(*) as running from tasks where target_transport_id = ? and step = 'await-cycle' and id <> ?`, [transport.id, task.id]);
  if (Number(running) >= Math.max(transport.maxSupportedTasks, 1)) throw new StepWait(2_000);
  if (task.actionState === ActionState.Snapshotted) await changeState(em, task, task.lastSync === LastSync.Requested ? 'final-sync-started' : 'next-cycle');
  const client = await ctx.transport();
  const status = await inTransport(transport.mgntAddr, () =>
    client.startCycle({ cycleId, taskId: task.id, ...source, kind, compress: task.isCompressed, ...(task.qosLimit ? { qosMBps: task.qosLimit } : {}) }),
  );
  if (status.state === 'failed') throw new StepFailure(describeFailure(status), status.error?.retryable ?? false);
  task.snapTimes = n;
  task.cycleId = cycleId;
  resetProgress(task, status);
  await publishProgress(em, task);
  const what = task.lastSync === LastSync.Running ? 'final sync' : `${kind} copy ${n}`;
  await appendEvent(em, task, 'cycle.started', `${what}${retry ? ' (again)' : ''} started on transport "${transport.name}"`, { cycleId, kind, n });
  return { next: 'await-cycle', inMs: ctx.timings.reconcileMs };
}

/**
 * Where the transport reads the disks: the agent of an agent host; for a vSphere VM, the flat
 * extents of a snapshot Ferry takes now, on the datastore, each with a one-time ticket.
 */
async function sourceOf(ctx: StepContext, cycleId: string, kind: CycleKind, disks: CycleDisk[]): Promise<Pick<CycleRequest, 'agentAddr' | 'datastore' | 'disks'>> {
  const { em, task } = ctx;
  const host = task.sourceHost.getEntity();
  if (host.agent) {
    if (!host.mgntAddr) throw new StepFailure(`source host "${host.name}" has no agent address`, false);
    return { agentAddr: host.mgntAddr, disks };
  }
  const snapshot = vmSnapshotName(task, cycleId);
  const volumes = task.volumes.getItems();
  // an incremental copy needs only what changed since the copy the target holds
  const wanted = volumes.map((v) => ({ name: v.volumeName, changeId: kind === 'incremental' ? v.cbtChangeId : undefined }));
  const reads = await inVsphere(() => ctx.vmDisks.open(host, wanted, DEFAULT_BLOCK_SIZE, vmSnapshotPrefix(task), snapshot, `Taken by Ferry for copying the VM in task "${task.name}"; removed when the copy ends.`));
  for (const v of volumes) v.cbtPendingChangeId = reads.changeIds.get(v.volumeName);
  await appendEvent(em, task, 'vm.snapshot.taken', `VM snapshot "${snapshot}" taken; the transport reads from the datastore: ${reads.how}`, { snapshot });
  return { datastore: { certificateSha256: reads.certificateSha256 }, disks: disks.map((d) => ({ ...d, datastore: reads.extents.get(d.disk)! })) };
}

/** After a copy of a vSphere VM: its snapshot is removed (vSphere folds the changes made meanwhile back in). */
export async function releaseVmSnapshot(ctx: StepContext): Promise<StepOutcome> {
  const { em, task } = ctx;
  const removed = await inVsphere(() => ctx.vmDisks.release(task.sourceHost.getEntity(), vmSnapshotPrefix(task)));
  if (removed) await appendEvent(em, task, 'vm.snapshot.removed', `VM snapshot of copy ${task.snapTimes} removed`, { n: task.snapTimes });
  return { next: 'snapshot' };
}

/** No event came for a while: asks the transport how the copy is doing. */
export async function reconcileCycle(ctx: StepContext): Promise<StepOutcome> {
  const { task } = ctx;
  const transport = task.targetTransport.getEntity();
  const client = await ctx.transport();
  const status = await inTransport(transport.mgntAddr, () => client.status());
  const cycle = status.cycles.find((c) => c.cycleId === task.cycleId);
  if (!cycle) return { next: 'cycle' }; // the transport lost it (state wiped): run it again
  if (cycle.state === 'running') return { next: 'await-cycle', inMs: ctx.timings.reconcileMs };
  return cycleEnded(ctx, cycle);
}

/** A copy ended (from the transport's event or its status): next comes the snapshot, or the failure. */
export async function cycleEnded(ctx: Pick<StepContext, 'em' | 'task'>, cycle: Pick<CycleStatus, 'state' | 'error' | 'cycleId'> & { durationMs?: number; disks?: DiskResult[] | CycleStatus['disks'] }): Promise<StepOutcome> {
  const { em, task } = ctx;
  if (cycle.state === 'cancelled') throw new StepFailure(`copy ${task.snapTimes} was cancelled on the transport`, false);
  if (cycle.state === 'failed') throw new StepFailure(describeFailure(cycle), cycle.error?.retryable ?? false);
  workDone(task);
  // the target now holds the disks as of this copy's snapshot: the next copy asks what changed since
  for (const v of task.volumes.getItems()) if (v.cbtPendingChangeId) [v.cbtChangeId, v.cbtPendingChangeId] = [v.cbtPendingChangeId, undefined];
  completeProgress(task, cycle.disks);
  await publishProgress(em, task);
  await appendEvent(em, task, 'cycle.finished', `copy ${task.snapTimes} finished${cycle.durationMs !== undefined ? ` in ${(cycle.durationMs / 1000).toFixed(1)} s` : ''}`, { cycleId: cycle.cycleId, n: task.snapTimes });
  return { next: task.sourceHost.getEntity().agent ? 'snapshot' : 'release-vm-snapshot' };
}

const describeFailure = (c: Pick<CycleStatus, 'error' | 'cycleId'>) => `copy failed: ${c.error ? `${c.error.message} (${c.error.cause}${c.error.disk ? `, ${c.error.disk}` : ''})` : 'no cause given'}`;
