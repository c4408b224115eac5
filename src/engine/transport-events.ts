import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Task } from '../../entities/index.js';
import type { TransportEvent } from '../transport/protocol.js';
import { applyProgress, publishProgress } from './progress.js';
import { StepFailure, type EngineTimings, type StepName, type StepOutcome } from './step-context.js';
import { conversionEnded } from './steps/convert.js';
import { cycleEnded } from './steps/cycle.js';
import { lockTask, schedule, settleFailure, wakeEngines } from './scheduling.js';
import { UUID } from '../util/uuid.js';

/**
 * A transport's event about a task, in the transaction recording its receipt: progress updates
 * the task (skipped while a step holds it: the next report comes within a second); the end of a
 * copy or conversion moves the task on, once, and only if it is the copy the task waits for.
 */
export async function handleTransportEvent(em: EntityManager, event: TransportEvent, deps: { timings: EngineTimings }): Promise<void> {
  // a task id that is not ours (a transport also serves `ferry sync` and other controllers' tests) is ignored
  if (!('taskId' in event) || !UUID.test(event.taskId)) return;
  if (event.type === 'cycle.progress') {
    const task = await em.findOne(Task, { id: event.taskId, cycleId: event.cycleId, step: 'await-cycle' }, { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE });
    if (!task) return;
    await applyProgress(em, task, event.progress);
    await publishProgress(em, task);
    return;
  }
  const waiting: StepName = event.type.startsWith('cycle.') ? 'await-cycle' : 'await-conversion';
  const task = await lockTask(em, event.taskId);
  if (!task || task.step !== waiting) return;
  let outcome: StepOutcome;
  try {
    switch (event.type) {
      case 'cycle.finished':
      case 'cycle.failed':
      case 'cycle.cancelled':
        if (task.cycleId !== event.cycleId) return;
        outcome = await cycleEnded(
          { em, task },
          event.type === 'cycle.finished' ? { state: 'finished', cycleId: event.cycleId, durationMs: event.durationMs, disks: event.disks } : event.type === 'cycle.failed' ? { state: 'failed', cycleId: event.cycleId, error: event.failure } : { state: 'cancelled', cycleId: event.cycleId },
        );
        break;
      case 'conversion.finished':
      case 'conversion.failed':
        if (task.conversionId !== event.conversionId) return;
        outcome = await conversionEnded({ em, task }, event.type === 'conversion.finished' ? { state: 'finished', result: event.result } : { state: 'failed', error: event.failure });
        break;
      default:
        return;
    }
  } catch (err) {
    if (!(err instanceof StepFailure)) throw err;
    await settleFailure(em, task, waiting, err, deps.timings);
    await wakeEngines(em, task);
    return;
  }
  schedule(task, outcome);
  await wakeEngines(em, task);
}
