import type { EntityManager } from '@mikro-orm/postgresql';
import { ActionState, type Task } from '../../entities/index.js';
import { appendEvent } from './event-log.js';
import { describeState, transition, type Cause } from './task-states.js';

/** The task's `Status` text in each state, as the legacy list shows it. */
const STATUS: Record<ActionState, string> = {
  [ActionState.Created]: 'Waiting for the start time.',
  [ActionState.WaitSnapshot]: 'Copying.',
  [ActionState.Snapshotted]: 'Snapshot created.',
  [ActionState.Error]: 'Error.',
  [ActionState.Stopped]: 'Stopped.',
  [ActionState.Success]: 'Instance available.',
  [ActionState.ExecuteV2V]: 'Converting the boot disk.',
  [ActionState.WaitRecovery]: 'Ready: waiting for CreateInstance.',
  [ActionState.InRecovery]: 'Creating the instance.',
  [ActionState.Completed]: 'Completed.',
};

/** A refused change of state: the engine or the service asked for something the table forbids. */
export class StateRefused extends Error {}

/**
 * Applies `cause` to the task (locked by the caller) through the state table and logs the change
 * in the same transaction. `detail` says why, in the log and, for errors, in `Status`.
 */
export async function changeState(em: EntityManager, task: Task, cause: Cause, detail?: string): Promise<void> {
  const before = { actionState: task.actionState, lastSync: task.lastSync };
  const next = transition(before, cause, task.failedState);
  if (!next.ok) throw new StateRefused(next.error.message);
  task.actionState = next.value.actionState;
  task.lastSync = next.value.lastSync;
  task.status = cause === 'failed' && detail ? detail : STATUS[task.actionState as ActionState];
  const message = `${describeState(before)} → ${describeState(next.value)}${detail ? `: ${detail}` : ''}`;
  await appendEvent(em, task, cause === 'failed' ? 'error' : 'state.changed', message, { cause, from: before, to: next.value });
}
