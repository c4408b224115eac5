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
  /** the feed's consumer left: every wait returns at once */
  closed = false;

  signal(): void {
    this.signalled = true;
    this.resolve?.();
  }

  close(): void {
    this.closed = true;
    this.signal();
  }

  /** until a signal, or `ms` (without: no time limit) */
  async wait(ms?: number): Promise<void> {
    if (!this.signalled && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
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
 * `return()` of an async generator that is awaiting (not at a `yield`) waits until it next yields,
 * which a quiet feed never does: its loop would go on, and keep the process alive, after the
 * client left. This one closes the feed's wake-up first, so the loop sees it and ends.
 */
function endable<T>(wakeup: Wakeup, feed: AsyncGenerator<T>): AsyncGenerator<T> {
  const end = feed.return.bind(feed);
  feed.return = (value) => {
    wakeup.close();
    return end(value);
  };
  return feed;
}

/**
 * A report goes out this long after it came, at the earliest: reports that come together (the
 * engine reports many tasks at once) share one batch.
 */
const GATHER_MS = 5;

/** Keeps the newer of two views of a task (a row read and a notification may cross). */
function keepNewer(latest: Map<string, ProgressView>, view: ProgressView): void {
  const current = latest.get(view.taskId);
  if (!current || current.at <= view.at) latest.set(view.taskId, view);
}

/**
 * Progress batches of one set of tasks at one rate, made once for every subscriber that asks for
 * the same set at the same rate: they all get the same batch object, which GraphQL then executes
 * once for all of them (see `sharedResults` in resolvers/task-subscriptions.ts). The rate is per
 * task: a task's report waits only for that task's own last one to be an interval old, and the
 * latest report of a task wins.
 */
class ProgressFeed {
  readonly subscribers = new Set<(batch: ProgressView[]) => void>();
  /** reports not sent yet, the latest of each task */
  private readonly pending = new Map<string, ProgressView>();
  /** when each task's last report went out */
  private readonly sentAt = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private rereading?: Promise<void>;

  constructor(
    readonly taskIds: readonly string[],
    private readonly intervalMs: number,
    private readonly read: (taskIds: readonly string[]) => Promise<ProgressView[]>,
  ) {}

  /** a report: the latest of a task wins; it goes out when its task's interval allows */
  take(view: ProgressView): void {
    this.pending.set(view.taskId, view);
    this.schedule(Date.now() + GATHER_MS);
  }

  /** the notification connection came back: what changed meanwhile is in the rows */
  reread(): void {
    this.rereading ??= this.read(this.taskIds)
      .then((views) => {
        for (const view of views) keepNewer(this.pending, view);
        this.schedule(Date.now());
      })
      .catch(() => undefined) // the database is away too: the next notification or reconnect tells again
      .finally(() => (this.rereading = undefined));
  }

  private dueOf(taskId: string): number {
    return (this.sentAt.get(taskId) ?? 0) + this.intervalMs;
  }

  /** Sets the timer for the first pending report that may go, not before `earliest`. */
  private schedule(earliest: number): void {
    let due = Infinity;
    for (const taskId of this.pending.keys()) due = Math.min(due, this.dueOf(taskId));
    if (due === Infinity) return;
    const at = Math.max(due, earliest);
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.flush(), Math.max(0, at - Date.now()));
  }

  private flush(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    const batch: ProgressView[] = [];
    for (const [taskId, view] of this.pending) {
      if (this.dueOf(taskId) > now) continue;
      batch.push(view);
      this.pending.delete(taskId);
      this.sentAt.set(taskId, now);
    }
    if (batch.length) for (const subscriber of this.subscribers) subscriber(batch);
    this.schedule(now);
  }

  close(): void {
    clearTimeout(this.timer);
  }
}

/**
 * What subscribers of a task see. Events are read from the durable log (replay after a cursor,
 * then live); PostgreSQL notifications only say when to read again, so a missed one loses nothing,
 * and every Ferry process serves its own subscribers from the same log.
 */
export class TaskFeeds {
  /** progress feeds listening to each task, by task id */
  private readonly progressListeners = new Map<string, Set<ProgressFeed>>();
  /** progress feeds by rate and task set */
  private readonly progressFeeds = new Map<string, ProgressFeed>();
  private stopProgress?: () => void;

  constructor(
    private readonly orm: MikroORM,
    private readonly hub: NotificationHub,
  ) {}

  /** One listener per process parses each progress notification once and hands it to the feeds of that task. */
  private listenToProgress(): void {
    this.stopProgress ??= this.hub.on(TASK_PROGRESS_CHANNEL, (payload) => {
      if (payload === '') {
        for (const feed of this.progressFeeds.values()) feed.reread();
        return;
      }
      const view = JSON.parse(payload) as ProgressView;
      for (const feed of this.progressListeners.get(view.taskId) ?? []) feed.take(view);
    });
  }

  /** progress feeds open in this process (one per distinct set of tasks and rate being watched) */
  get openProgressFeeds(): number {
    return this.progressFeeds.size;
  }

  private readProgress = async (taskIds: readonly string[]): Promise<ProgressView[]> =>
    (await this.orm.em.fork().find(Task, { id: { $in: [...taskIds] } })).map(progressView);

  /** Adds a subscriber to the feed of these tasks at this rate (made on first use, dropped after its last subscriber). */
  private joinProgressFeed(taskIds: readonly string[], intervalMs: number, subscriber: (batch: ProgressView[]) => void): () => void {
    this.listenToProgress();
    const key = `${intervalMs} ${[...taskIds].sort().join(' ')}`;
    let feed = this.progressFeeds.get(key);
    if (!feed) {
      const created = new ProgressFeed(taskIds, intervalMs, this.readProgress);
      this.progressFeeds.set(key, (feed = created));
      for (const id of taskIds) {
        let set = this.progressListeners.get(id);
        if (!set) this.progressListeners.set(id, (set = new Set()));
        set.add(feed);
      }
    }
    const joined = feed;
    joined.subscribers.add(subscriber);
    return () => {
      joined.subscribers.delete(subscriber);
      if (joined.subscribers.size) return;
      joined.close();
      this.progressFeeds.delete(key);
      for (const id of taskIds) {
        const set = this.progressListeners.get(id);
        set?.delete(joined);
        if (!set?.size) this.progressListeners.delete(id);
      }
    };
  }

  /** The task's events after `afterSeq`, in order, then live; ends when the task is deleted. `types` keeps some. */
  events(taskId: string, afterSeq: string, types?: readonly string[]): AsyncGenerator<TaskEvent> {
    const wakeup = new Wakeup();
    return endable(wakeup, this.eventLoop(wakeup, taskId, afterSeq, types));
  }

  private async *eventLoop(wakeup: Wakeup, taskId: string, afterSeq: string, types?: readonly string[]): AsyncGenerator<TaskEvent> {
    // listening starts before the first read: an event committed in between wakes the loop
    const off = this.hub.on(TASK_EVENTS_CHANNEL, (id) => (id === taskId || id === '') && wakeup.signal());
    try {
      let cursor = afterSeq;
      while (!wakeup.closed) {
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
   * Progress of these tasks, in batches: the current state of each first, then what changed, each
   * task at most once per `minIntervalMs` (its latest report wins; older ones are dropped, never
   * delayed); reports that come within GATHER_MS share a batch. Clients watching the same tasks at
   * the same rate share their batches (ProgressFeed), and so their executions.
   */
  progress(taskIds: readonly string[], minIntervalMs = 250): AsyncGenerator<ProgressView[]> {
    const wakeup = new Wakeup();
    return endable(wakeup, this.progressLoop(wakeup, [...new Set(taskIds)], minIntervalMs));
  }

  private async *progressLoop(wakeup: Wakeup, taskIds: readonly string[], intervalMs: number): AsyncGenerator<ProgressView[]> {
    /** the feed's batches this subscriber has not taken yet (more than one: its client is slow) */
    const queue: ProgressView[][] = [];
    // joined before the first read: a report committed in between is in the queue
    const leave = this.joinProgressFeed(taskIds, intervalMs, (batch) => {
      queue.push(batch);
      wakeup.signal();
    });
    try {
      const current = await this.readProgress(taskIds);
      /** what the client was shown first: a queued report it already includes is not sent again */
      const shown = new Map(current.map((v) => [v.taskId, v]));
      let notBefore = 0;
      if (current.length) {
        yield current;
        notBefore = Date.now() + intervalMs;
      }
      while (!wakeup.closed) {
        const wait = notBefore - Date.now();
        if (queue.length && wait <= 0) {
          // usually one batch, handed on as it is (the same object as the other subscribers')
          let batch = queue.length === 1 ? queue[0] : merge(queue);
          queue.length = 0;
          if (shown.size && batch.some((v) => (shown.get(v.taskId)?.at ?? '') >= v.at)) batch = batch.filter((v) => (shown.get(v.taskId)?.at ?? '') < v.at);
          for (const v of batch) shown.delete(v.taskId); // newer than what was shown: no more to filter for this task
          if (batch.length) yield batch;
          continue;
        }
        await wakeup.wait(queue.length ? wait : undefined);
      }
    } finally {
      leave();
    }
  }
}

/** Several batches as one: each task once, its latest report. */
function merge(batches: ProgressView[][]): ProgressView[] {
  const latest = new Map<string, ProgressView>();
  for (const batch of batches) for (const view of batch) latest.set(view.taskId, view);
  return [...latest.values()];
}
