import type { EntityManager } from '@mikro-orm/postgresql';
import { TaskProgressSample, type DiskProgress, type Task } from '../../entities/index.js';
import type { CycleStatus } from '../transport/protocol.js';

/** Woken (payload: JSON of a task's progress) whenever a task's progress changes. */
export const TASK_PROGRESS_CHANNEL = 'ferry_task_progress';

/** Throughput windows GraphQL shows; samples older than the longest are dropped. */
export const WINDOWS_MS = { short: 2 * 60_000, long: 30 * 60_000 } as const;
/** the time left needs at least this much history in the short window */
const MIN_SPAN_MS = 3_000;

const sum = (disks: DiskProgress[], key: 'sizeBytes' | 'scannedBytes') => disks.reduce((n, d) => n + d[key], 0);
const disksOf = (status: Pick<CycleStatus, 'disks'>): DiskProgress[] =>
  status.disks.map((d) => ({ disk: d.disk, sizeBytes: d.sizeBytes, scannedBytes: d.scannedBytes, wireBytes: d.wireBytes, writtenBytes: d.writtenBytes }));

/** A copy starts: its size is the disks' size (as the agent reported them until the transport tells), nothing is done yet. */
export function resetProgress(task: Task, status: Pick<CycleStatus, 'disks'>): void {
  const reported = disksOf(status);
  task.progressDisks = task.volumes.getItems().map((v) => ({
    disk: v.volumeName,
    sizeBytes: reported.find((d) => d.disk === v.volumeName)?.sizeBytes || Number(v.sizeBytes),
    scannedBytes: 0,
    wireBytes: 0,
    writtenBytes: 0,
  }));
  task.snapshotSize = String(sum(task.progressDisks, 'sizeBytes'));
  task.transferredSize = '0';
  task.predictDoneSeconds = undefined;
  task.progressAt = new Date();
}

export interface ProgressView {
  taskId: string;
  cycleId?: string;
  percent: number;
  snapshotSize: number;
  transferredSize: number;
  predictDoneSeconds: number | null;
  disks: DiskProgress[];
  at: string;
}

/**
 * Records the task's progress as it now is: a throughput sample (older than the longest window
 * dropped), and a notification at commit that every Ferry process passes to its subscribers.
 */
export async function publishProgress(em: EntityManager, task: Task, now = new Date()): Promise<void> {
  em.create(TaskProgressSample, { task, at: now, movedBytes: task.movedBytes });
  await em.execute(`delete from task_progress_samples where task_id = ? and at < ?`, [task.id, new Date(now.getTime() - WINDOWS_MS.long)]);
  await em.execute('select pg_notify(?, ?)', [TASK_PROGRESS_CHANNEL, JSON.stringify(progressView(task))]);
}

export const percentOf = (task: Pick<Task, 'snapshotSize' | 'transferredSize'>): number => {
  const size = Number(task.snapshotSize);
  return size > 0 ? Math.min(100, Math.floor((Number(task.transferredSize) * 100) / size)) : 0;
};

export const progressView = (task: Task): ProgressView => ({
  taskId: task.id,
  cycleId: task.cycleId,
  percent: percentOf(task),
  snapshotSize: Number(task.snapshotSize),
  transferredSize: Number(task.transferredSize),
  predictDoneSeconds: task.predictDoneSeconds === undefined || task.predictDoneSeconds === null ? null : Number(task.predictDoneSeconds),
  disks: task.progressDisks ?? [],
  at: (task.progressAt ?? new Date()).toISOString(),
});

/** A copy finished: every byte of every disk is done; the transport's final counts replace the last report. */
export function completeProgress(task: Task, disks?: Pick<DiskProgress, 'disk' | 'sizeBytes' | 'wireBytes' | 'writtenBytes'>[]): void {
  const before = sum(task.progressDisks ?? [], 'scannedBytes');
  const final = disks?.length ? disks.map((d) => ({ disk: d.disk, sizeBytes: d.sizeBytes, scannedBytes: d.sizeBytes, wireBytes: d.wireBytes, writtenBytes: d.writtenBytes })) : (task.progressDisks ?? []).map((d) => ({ ...d, scannedBytes: d.sizeBytes }));
  task.progressDisks = final;
  task.snapshotSize = String(sum(final, 'sizeBytes'));
  task.transferredSize = task.snapshotSize;
  task.movedBytes = String(BigInt(task.movedBytes) + BigInt(Math.max(0, Number(task.snapshotSize) - before)));
  task.predictDoneSeconds = '0';
  task.progressAt = new Date();
}

/**
 * Takes in a progress report of the task's current copy: the bytes, and the time left from the rate over the last two minutes (a smoothed rate, not the last sample).
 */
export async function applyProgress(em: EntityManager, task: Task, status: Pick<CycleStatus, 'disks'>, now = new Date()): Promise<void> {
  const disks = disksOf(status);
  const before = sum(task.progressDisks ?? [], 'scannedBytes');
  const scanned = sum(disks, 'scannedBytes');
  task.movedBytes = String(BigInt(task.movedBytes) + BigInt(Math.max(0, scanned - before)));
  task.progressDisks = disks;
  task.snapshotSize = String(sum(disks, 'sizeBytes'));
  task.transferredSize = String(scanned);
  task.progressAt = now;
  const rate = await rateOver(em, task.id, WINDOWS_MS.short, Number(task.movedBytes), now);
  const left = Number(task.snapshotSize) - scanned;
  task.predictDoneSeconds = rate && rate > 0 ? String(Math.ceil(left / rate)) : undefined;
}

/** Bytes per second over the window ending now, from the oldest sample inside it; null without enough history. */
export async function rateOver(em: EntityManager, taskId: string, windowMs: number, movedNow: number, now = new Date()): Promise<number | null> {
  const [oldest] = await em.execute<{ at: Date; moved_bytes: string }[]>(
    `select at, moved_bytes from task_progress_samples where task_id = ? and at >= ? order by at asc limit 1`,
    [taskId, new Date(now.getTime() - windowMs)],
  );
  if (!oldest) return null;
  const span = now.getTime() - new Date(oldest.at).getTime();
  if (span < MIN_SPAN_MS) return null;
  return ((movedNow - Number(oldest.moved_bytes)) * 1000) / span;
}
