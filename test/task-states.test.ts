import { describe, expect, it } from 'vitest';
import { ActionState, LastSync } from '../entities/index.js';
import { transition, type Cause } from '../src/engine/task-states.js';

const S = ActionState;
const L = LastSync;
const CAUSES: Cause[] = ['volumes-ready', 'snapshot-taken', 'next-cycle', 'complete-requested', 'final-sync-started', 'v2v-started', 'v2v-done', 'create-instance', 'instance-active', 'finished', 'failed', 'continued', 'deleted'];
const STATES = Object.values(ActionState).filter((v): v is ActionState => typeof v === 'number');
const SYNCS = [L.Normal, L.Requested, L.Running];

/**
 * The flow of NOTES.md written out by hand, independently of the engine's table:
 * [from state, LastSync values, cause, to state, to LastSync]; `any` LastSync keeps it.
 */
const ANY = SYNCS;
const ALLOWED: [ActionState, LastSync[], Cause, ActionState, LastSync | 'same'][] = [
  [S.Created, [L.Normal], 'volumes-ready', S.WaitSnapshot, 'same'],
  [S.WaitSnapshot, ANY, 'snapshot-taken', S.Snapshotted, 'same'],
  [S.Snapshotted, [L.Normal], 'next-cycle', S.WaitSnapshot, 'same'],
  [S.WaitSnapshot, [L.Normal], 'complete-requested', S.WaitSnapshot, L.Requested],
  [S.Snapshotted, [L.Normal], 'complete-requested', S.Snapshotted, L.Requested],
  [S.Snapshotted, [L.Requested], 'final-sync-started', S.WaitSnapshot, L.Running],
  [S.Snapshotted, [L.Running], 'v2v-started', S.ExecuteV2V, 'same'],
  [S.ExecuteV2V, ANY, 'v2v-done', S.WaitRecovery, 'same'],
  [S.WaitRecovery, ANY, 'create-instance', S.InRecovery, 'same'],
  [S.InRecovery, ANY, 'instance-active', S.Success, 'same'],
  [S.Success, ANY, 'finished', S.Completed, 'same'],
  ...[S.Created, S.WaitSnapshot, S.Snapshotted, S.ExecuteV2V, S.InRecovery].map((s) => [s, ANY, 'failed', S.Error, 'same'] as [ActionState, LastSync[], Cause, ActionState, 'same']),
  ...STATES.filter((s) => s !== S.Stopped).map((s) => [s, ANY, 'deleted', S.Stopped, 'same'] as [ActionState, LastSync[], Cause, ActionState, 'same']),
];

describe('the task state machine', () => {
  it('allows every change of the flow, with its outcome', () => {
    for (const [from, syncs, cause, to, syncTo] of ALLOWED) {
      for (const lastSync of syncs) {
        const next = transition({ actionState: from, lastSync }, cause);
        expect(next, `${from}/${lastSync} ${cause}`).toEqual({ ok: true, value: { actionState: to, lastSync: syncTo === 'same' ? lastSync : syncTo } });
      }
    }
  });

  it('refuses every other change, naming the current state', () => {
    let refused = 0;
    for (const actionState of STATES) {
      for (const lastSync of SYNCS) {
        for (const cause of CAUSES) {
          if (cause === 'continued') continue;
          if (ALLOWED.some(([f, s, c]) => f === actionState && s.includes(lastSync) && c === cause)) continue;
          const next = transition({ actionState, lastSync }, cause);
          expect(next.ok, `${actionState}/${lastSync} ${cause}`).toBe(false);
          if (!next.ok) expect(next.error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(`(${actionState})`) });
          refused++;
        }
      }
    }
    // every combination was tried: allowed ones above, refused ones here
    const allowed = ALLOWED.reduce((n, [, syncs]) => n + syncs.length, 0);
    expect(refused + allowed).toBe(STATES.length * SYNCS.length * (CAUSES.length - 1));
  });

  it('continues a failed task in the state it failed in, and nothing else', () => {
    for (const previous of [S.Created, S.WaitSnapshot, S.Snapshotted, S.ExecuteV2V, S.InRecovery]) {
      expect(transition({ actionState: S.Error, lastSync: L.Running }, 'continued', previous)).toEqual({ ok: true, value: { actionState: previous, lastSync: L.Running } });
    }
    expect(transition({ actionState: S.Error, lastSync: L.Normal }, 'continued').ok).toBe(false);
    for (const s of STATES.filter((x) => x !== S.Error)) expect(transition({ actionState: s, lastSync: L.Normal }, 'continued', S.Created).ok).toBe(false);
  });
});
