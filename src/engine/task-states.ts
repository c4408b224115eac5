import { ActionState, LastSync } from '../../entities/index.js';
import { fail, ok, type Result } from '../services/errors.js';

/** Why a task changes state: what the user asked, or what the engine saw happen. */
export type Cause =
  | 'volumes-ready' // cloud volumes created and attached: the first full copy starts
  | 'snapshot-taken' // a copy finished and its snapshots exist
  | 'next-cycle' // the interval passed: an incremental copy starts
  | 'complete-requested' // CompleteTask
  | 'final-sync-started' // the final copy after CompleteTask starts
  | 'v2v-started' // the final copy's snapshots exist: the boot disk is converted
  | 'v2v-done'
  | 'create-instance' // CreateInstance
  | 'instance-active' // the migrated server is ACTIVE
  | 'finished' // nothing left to do
  | 'failed' // a step failed
  | 'continued' // ContinueTask
  | 'deleted'; // DeleteTask

export interface TaskState {
  actionState: ActionState;
  lastSync: LastSync;
}

interface Transition {
  cause: Cause;
  from: readonly ActionState[];
  /** the LastSync values the transition needs; any when absent */
  lastSync?: readonly LastSync[];
  /** the new ActionState; unchanged when absent; `previous` for ContinueTask */
  to?: ActionState | 'previous';
  /** the new LastSync; unchanged when absent */
  lastSyncTo?: LastSync;
}

const S = ActionState;
const L = LastSync;
/** every state a task still works in (not stopped, not completed) */
const WORKING = [S.Created, S.WaitSnapshot, S.Snapshotted, S.ExecuteV2V, S.WaitRecovery, S.InRecovery, S.Success] as const;

/** The one table of allowed changes. Anything else is refused, naming the current state. */
export const TRANSITIONS: readonly Transition[] = [
  { cause: 'volumes-ready', from: [S.Created], lastSync: [L.Normal], to: S.WaitSnapshot },
  { cause: 'snapshot-taken', from: [S.WaitSnapshot], to: S.Snapshotted },
  { cause: 'next-cycle', from: [S.Snapshotted], lastSync: [L.Normal], to: S.WaitSnapshot },
  { cause: 'complete-requested', from: [S.WaitSnapshot, S.Snapshotted], lastSync: [L.Normal], lastSyncTo: L.Requested },
  { cause: 'final-sync-started', from: [S.Snapshotted], lastSync: [L.Requested], to: S.WaitSnapshot, lastSyncTo: L.Running },
  { cause: 'v2v-started', from: [S.Snapshotted], lastSync: [L.Running], to: S.ExecuteV2V },
  { cause: 'v2v-done', from: [S.ExecuteV2V], to: S.WaitRecovery },
  { cause: 'create-instance', from: [S.WaitRecovery], to: S.InRecovery },
  { cause: 'instance-active', from: [S.InRecovery], to: S.Success },
  { cause: 'finished', from: [S.Success], to: S.Completed },
  { cause: 'failed', from: [S.Created, S.WaitSnapshot, S.Snapshotted, S.ExecuteV2V, S.InRecovery], to: S.Error },
  { cause: 'continued', from: [S.Error], to: 'previous' },
  { cause: 'deleted', from: [...WORKING, S.Error, S.Completed], to: S.Stopped },
];

export const STATE_NAMES: Record<ActionState, string> = {
  [S.Created]: 'created (1000)',
  [S.WaitSnapshot]: 'copying (1001)',
  [S.Snapshotted]: 'snapshotted (1002)',
  [S.Error]: 'in error (1003)',
  [S.Stopped]: 'stopped (1004)',
  [S.Success]: 'instance available (1005)',
  [S.ExecuteV2V]: 'converting the boot disk (1006)',
  [S.WaitRecovery]: 'waiting for CreateInstance (1007)',
  [S.InRecovery]: 'creating the instance (1008)',
  [S.Completed]: 'completed (1009)',
};

const LAST_SYNC_NAMES: Record<LastSync, string> = {
  [L.Normal]: '',
  [L.Requested]: ', final sync requested',
  [L.Running]: ', final sync running',
};

/** "copying (1001), final sync requested" */
export const describeState = (s: TaskState): string => `${STATE_NAMES[s.actionState]}${LAST_SYNC_NAMES[s.lastSync]}`;

/** What a refusal says the cause would have needed, in words. */
const ASKED: Record<Cause, string> = {
  'volumes-ready': 'start copying',
  'snapshot-taken': 'record a snapshot',
  'next-cycle': 'start an incremental copy',
  'complete-requested': 'complete it',
  'final-sync-started': 'start the final sync',
  'v2v-started': 'convert the boot disk',
  'v2v-done': 'finish the conversion',
  'create-instance': 'create the instance',
  'instance-active': 'mark the instance available',
  finished: 'complete it',
  failed: 'mark it failed',
  continued: 'continue it',
  deleted: 'delete it',
};

/**
 * The state after `cause`, or a refusal naming the current state. `previous` is the state a
 * failed task had before the failure (ContinueTask returns to it).
 */
export function transition(current: TaskState, cause: Cause, previous?: ActionState): Result<TaskState> {
  const rule = TRANSITIONS.find((t) => t.cause === cause && t.from.includes(current.actionState) && (!t.lastSync || t.lastSync.includes(current.lastSync)));
  if (!rule) return fail('CONFLICT', `The task is ${describeState(current)}: it cannot ${ASKED[cause]} now.`, 'ActionState');
  let actionState = rule.to ?? current.actionState;
  if (actionState === 'previous') {
    if (previous === undefined || previous === S.Error) return fail('CONFLICT', `The task is ${describeState(current)} and does not know the step to continue from.`, 'ActionState');
    actionState = previous;
  }
  return ok({ actionState, lastSync: rule.lastSyncTo ?? current.lastSync });
}
