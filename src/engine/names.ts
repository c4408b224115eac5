import type { Task, TaskVolume } from '../../entities/index.js';

/**
 * Names Ferry gives what it makes, derived from the task only: after a crash the engine finds
 * what it made before by name instead of making it twice.
 */
export const cloudVolumeName = (task: Task, v: TaskVolume): string => v.cloudVolumeName || `ferry-${task.id.slice(0, 8)}-disk${v.position}`;

export const snapshotName = (task: Task, cycle: number, v: TaskVolume): string => `ferry-${task.id.slice(0, 8)}-copy${cycle}-disk${v.position}`;

/** The first try of copy `n` is `<task>.<n>`; a retry adds the task's event count, which every retry changes. */
export const cycleIdFor = (task: Task, n: number, retry: boolean): string => (retry ? `${task.id}.${n}.${task.eventSeq}` : `${task.id}.${n}`);

export const conversionIdFor = (task: Task): string => `${task.id}.v2v.${task.eventSeq}`;

/** The migrated server's name: the one asked for, else the source host's. */
export const serverName = (task: Task): string => task.targetServerName || task.sourceHost.getEntity().name;

/** The VM snapshots Ferry takes of a vSphere source while copying it: `ferry-<task id>-copy<n>`. */
export const vmSnapshotPrefix = (task: Task): string => `ferry-${task.id}-`;
export const vmSnapshotName = (task: Task, cycleId: string): string => `${vmSnapshotPrefix(task)}copy${cycleId.slice(task.id.length + 1)}`;
