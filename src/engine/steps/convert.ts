import { ActionState } from '../../../entities/index.js';
import type { ConversionStatus } from '../../transport/protocol.js';
import { appendEvent } from '../event-log.js';
import { conversionIdFor } from '../names.js';
import { inTransport, StepFailure, type StepContext, type StepOutcome, workDone } from '../step-context.js';
import { changeState } from '../task-changes.js';

/** After the final sync: the transport converts the boot disk (v2v) in place. */
export async function startConversion(ctx: StepContext): Promise<StepOutcome> {
  const { em, task } = ctx;
  if (task.actionState === ActionState.Snapshotted) await changeState(em, task, 'v2v-started');
  const transport = task.targetTransport.getEntity();
  const conversionId = conversionIdFor(task);
  const targets = task.volumes.getItems().map((v) => ({ targetPath: v.device!, boot: v.boot }));
  const client = await ctx.transport();
  const status = await inTransport(transport.mgntAddr, () => client.startConversion({ conversionId, taskId: task.id, targets }));
  task.conversionId = conversionId;
  await appendEvent(em, task, 'conversion.started', `conversion of the boot disk started on transport "${transport.name}"`, { conversionId });
  if (status.state !== 'running') return conversionEnded(ctx, status);
  return { next: 'await-conversion', inMs: ctx.timings.reconcileMs };
}

export async function reconcileConversion(ctx: StepContext): Promise<StepOutcome> {
  const { task } = ctx;
  const transport = task.targetTransport.getEntity();
  const client = await ctx.transport();
  const status = await inTransport(transport.mgntAddr, () => client.status());
  const conversion = status.conversions.find((c) => c.conversionId === task.conversionId);
  if (!conversion) return { next: 'convert' };
  if (conversion.state === 'running') return { next: 'await-conversion', inMs: ctx.timings.reconcileMs };
  return conversionEnded(ctx, conversion);
}

/**
 * The conversion ended. Without the conversion tool on the transport the disk is left as it is
 * (it was checked to hold a partition table and filesystems): the task goes on with a warning.
 */
export async function conversionEnded(ctx: Pick<StepContext, 'em' | 'task'>, status: Pick<ConversionStatus, 'state' | 'result' | 'error'>): Promise<StepOutcome> {
  const { em, task } = ctx;
  if (status.state !== 'finished' || !status.result) {
    throw new StepFailure(`conversion of the boot disk failed: ${status.error ? `${status.error.message} (${status.error.cause})` : status.state}`, status.error?.retryable ?? false);
  }
  const { result } = status;
  workDone(task);
  if (!result.converted) await appendEvent(em, task, 'warning', `the boot disk was not converted: ${result.message}`, { tool: result.tool });
  await appendEvent(em, task, 'conversion.finished', result.converted ? `boot disk converted with ${result.tool}` : 'boot disk checked, not converted', { converted: result.converted });
  await changeState(em, task, 'v2v-done');
  return { next: null };
}
