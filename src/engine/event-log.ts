import type { EntityManager } from '@mikro-orm/postgresql';
import { TaskEvent, type Task } from '../../entities/index.js';

/** Woken (payload: the task id) when a task's log grows; subscribers then read the log itself. */
export const TASK_EVENTS_CHANNEL = 'ferry_task_events';

/** What the log records; `DisplayTaskHistory` shows the messages. */
export type TaskEventType =
  | 'task.created'
  | 'task.updated'
  | 'state.changed'
  | 'cycle.started'
  | 'cycle.finished'
  | 'snapshot.created'
  | 'snapshot.deleted'
  | 'vm.snapshot.taken'
  | 'vm.snapshot.removed'
  | 'conversion.started'
  | 'conversion.finished'
  | 'instance.created'
  | 'instance.deleted'
  | 'warning'
  | 'error'
  | 'retry';

/**
 * Appends an event to the task's log in the caller's transaction, with the task's next sequence
 * number. The caller holds the task row locked (select … for update), so numbers never collide
 * and each task's events commit in order; the notification is sent by PostgreSQL at commit.
 */
export async function appendEvent(em: EntityManager, task: Task, type: TaskEventType, message: string, payload?: Record<string, unknown>): Promise<TaskEvent> {
  task.eventSeq = String(BigInt(task.eventSeq) + 1n);
  const event = em.create(TaskEvent, { task, seq: task.eventSeq, type, message, payload });
  await em.execute('select pg_notify(?, ?)', [TASK_EVENTS_CHANNEL, task.id]);
  return event;
}
