import type { EntityManager } from '@mikro-orm/postgresql';
import { LockMode } from '@mikro-orm/core';
import { Task } from '../../entities/index.js';
import { appendEvent } from './event-log.js';
import { StepFailure, StepWait, type EngineTimings, type StepName, type StepOutcome } from './step-context.js';
import { RESTART, STEP_WORDS } from './steps/index.js';
import { changeState } from './task-changes.js';

/** Woken when a task's step became due now (by a user's action or a transport's event). */
export const TASK_DUE_CHANNEL = 'ferry_task_due';

/** Loaded with a task wherever its steps run or its views are built. */
export const TASK_POPULATE = ['volumes', 'sourceHost', 'sourceHost.platform', 'cloud', 'targetTransport', 'srcTransport'] as const;

/**
 * Locks the task's row only (a lock taken with its relations joined would also lock their rows,
 * e.g. the transport's, which event receipts update first: a deadlock), then loads its relations.
 */
export async function lockTask(em: EntityManager, id: string): Promise<Task | null> {
  const task = await em.findOne(Task, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (task) await em.populate(task, TASK_POPULATE);
  return task;
}

/** Tells the engines of every Ferry process, at commit, that the task has a step due now. */
export async function wakeEngines(em: EntityManager, task: Task): Promise<void> {
  await em.execute('select pg_notify(?, ?)', [TASK_DUE_CHANNEL, task.id]);
}

/** Sets the next step and when it is due. */
export function schedule(task: Task, outcome: StepOutcome): void {
  task.step = outcome.next ?? undefined;
  task.dueAt = outcome.next ? new Date(Date.now() + (outcome.inMs ?? 0)) : undefined;
}

/**
 * A step failed: a transient failure is retried later (a few times, backing off), anything else
 * sets the task in error (1003) with the cause; ContinueTask resumes from the step that failed.
 */
export async function settleFailure(em: EntityManager, task: Task, step: StepName, err: Error, timings: EngineTimings): Promise<void> {
  if (err instanceof StepWait) {
    task.dueAt = new Date(Date.now() + err.ms);
    return;
  }
  const cause = `${STEP_WORDS[step]} failed: ${err.message}`;
  if (err instanceof StepFailure && err.retryable && task.attempts < timings.maxRetries) {
    task.attempts += 1;
    task.step = RESTART[step] ?? step;
    const delay = timings.retryBaseMs * 2 ** (task.attempts - 1);
    task.dueAt = new Date(Date.now() + delay);
    await appendEvent(em, task, 'retry', `${cause}; trying again in ${delay < 10_000 ? (delay / 1000).toFixed(1) : Math.round(delay / 1000)} s (attempt ${task.attempts + 1} of ${timings.maxRetries + 1})`, { step, attempt: task.attempts });
    return;
  }
  task.failedStep = RESTART[step] ?? step;
  task.failedState = task.actionState;
  task.attempts = 0;
  task.step = undefined;
  task.dueAt = undefined;
  await changeState(em, task, 'failed', cause);
}
