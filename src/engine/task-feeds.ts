import type { MikroORM } from '@mikro-orm/postgresql';
import { Task, TaskEvent } from '../../entities/index.js';
import type { NotificationHub } from '../db/notifications.js';
import { TASK_EVENTS_CHANNEL } from './event-log.js';
import { progressView, TASK_PROGRESS_CHANNEL, type ProgressView } from './progress.js';

/** Even without a wake-up, a feed reads again this often (a lost notification costs at most this). */
const SAFETY_POLL_MS = 15_000;
const PAGE = 500;

/** A wake-up that is never lost: a signal before the wait makes the wait return at once. */
class Wakeup {
  private signalled = false;
  private resolve?: () => void;

  signal(): void {
    this.signalled = true;
    this.resolve?.();
  }

  async wait(ms: number): Promise<void> {
    if (!this.signalled) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.resolve = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.signalled = false;
    this.resolve = undefined;
  }
}

/**
 * What subscribers of a task see. Events are read from the durable log (replay after a cursor,
 * then live); PostgreSQL notifications only say when to read again, so a missed one loses nothing,
 * and every Ferry process serves its own subscribers from the same log.
 */
export class TaskFeeds {
  /** progress subscribers by task id; null: every subscriber (the notification connection came back) */
  private readonly progressListeners = new Map<string, Set<(view: ProgressView | null) => void>>();
  private stopProgress?: () => void;

  constructor(
    private readonly orm: MikroORM,
    private readonly hub: NotificationHub,
  ) {}

  /** One listener per process parses each progress notification once and hands it to that task's subscribers. */
  private onProgress(taskId: string, listener: (view: ProgressView | null) => void): () => void {
    this.stopProgress ??= this.hub.on(TASK_PROGRESS_CHANNEL, (payload) => {
      if (payload === '') {
        for (const set of this.progressListeners.values()) for (const l of set) l(null);
        return;
      }
      const view = JSON.parse(payload) as ProgressView;
      for (const l of this.progressListeners.get(view.taskId) ?? []) l(view);
    });
    let set = this.progressListeners.get(taskId);
    if (!set) this.progressListeners.set(taskId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size) this.progressListeners.delete(taskId);
    };
  }

  /** The task's events after `afterSeq`, in order, then live; ends when the task is deleted. `types` keeps some. */
  async *events(taskId: string, afterSeq: string, types?: readonly string[]): AsyncGenerator<TaskEvent> {
    const wakeup = new Wakeup();
    // listening starts before the first read: an event committed in between wakes the loop
    const off = this.hub.on(TASK_EVENTS_CHANNEL, (id) => (id === taskId || id === '') && wakeup.signal());
    try {
      let cursor = afterSeq;
      for (;;) {
        const em = this.orm.em.fork();
        const rows = await em.find(TaskEvent, { task: taskId, seq: { $gt: cursor } }, { orderBy: { seq: 'asc' }, limit: PAGE });
        for (const event of rows) {
          cursor = event.seq;
          if (!types || types.includes(event.type)) yield event;
        }
        if (rows.length === PAGE) continue;
        if (!(await em.count(Task, { id: taskId }))) return;
        await wakeup.wait(SAFETY_POLL_MS);
      }
    } finally {
      off();
    }
  }

  /** The last event number of a task (where a live-only feed starts), or null when there is no such task. */
  async lastSeq(taskId: string): Promise<string | null> {
    const task = await this.orm.em.fork().findOne(Task, { id: taskId }, { fields: ['eventSeq'] });
    return task ? task.eventSeq : null;
  }

  /**
   * Progress of these tasks, in batches: the current state of each first, then what changed, at
   * most one batch per `minIntervalMs` (the latest report of a task wins; older ones are dropped,
   * never delayed). A batch per client rather than a message per task: a dashboard watching many
   * tasks costs one GraphQL execution per interval, not one per report.
   */
  async *progress(taskIds: readonly string[], minIntervalMs = 250): AsyncGenerator<ProgressView[]> {
    const wanted = new Set(taskIds);
    const latest = new Map<string, ProgressView>();
    let sentAt = 0;
    const wakeup = new Wakeup();
    let reread = true;
    const listener = (view: ProgressView | null) => {
      if (view) latest.set(view.taskId, view);
      else reread = true; // the notification connection came back: what changed meanwhile is in the rows
      wakeup.signal();
    };
    const offs = [...wanted].map((id) => this.onProgress(id, listener));
    try {
      for (;;) {
        if (reread) {
          reread = false;
          const tasks = await this.orm.em.fork().find(Task, { id: { $in: [...wanted] } });
          for (const task of tasks) latest.set(task.id, progressView(task));
        }
        const due = sentAt + minIntervalMs - Date.now();
        if (latest.size && due <= 0) {
          const batch = [...latest.values()];
          latest.clear();
          sentAt = Date.now();
          yield batch;
        }
        await wakeup.wait(latest.size ? Math.max(due, 0) : SAFETY_POLL_MS);
      }
    } finally {
      for (const off of offs) off();
    }
  }
}
