import { GraphQLError } from 'graphql';
import { Arg, Extensions, ID, Int, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import type { TaskEvent as TaskEventRow } from '../entities/index.js';
import type { ProgressView } from '../src/engine/progress.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { SHARED_RESULTS } from '../src/graphql/shared-subscribe.js';
import { UUID } from '../src/util/uuid.js';
import { plainId } from './tasks.js';
import { progressNode, TaskEvent, taskEventNode, TaskProgress } from './tasks-types.js';

const badInput = (message: string, argument: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument } });

/** The plain id of a task argument (global or plain), refused when it cannot name a task. */
function taskIdOf(id: string, argument = 'taskId'): string {
  const plain = plainId('Task', id);
  if (!UUID.test(plain)) throw badInput(`${argument} names no task (got "${id.slice(0, 64)}").`, argument);
  return plain;
}

function feedsOf(context: GraphQLContext) {
  if (!context.feeds) throw new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) at /graphql.', { extensions: { code: 'BAD_REQUEST' } });
  return context.feeds;
}

/** Where a feed starts: right after `after` (replaying what the client missed), or at the task's present. */
async function startOf(context: GraphQLContext, taskId: string, after: string | undefined): Promise<string> {
  if (after !== undefined && after !== null) {
    if (!/^\d{1,18}$/.test(after)) throw badInput('after must be the cursor of an event of this task.', 'after');
    return after;
  }
  const last = await feedsOf(context).lastSeq(taskId);
  if (last === null) throw badInput('taskId names no task.', 'taskId');
  return last;
}

type Args<T> = SubscribeResolverData<unknown, T, GraphQLContext>;

@Resolver()
export class TaskSubscriptionResolver {
  @Subscription(() => TaskEvent, {
    description: 'A task’s log: with `after`, first every event after that cursor (what a reconnecting client missed), then live; without, live from now. Ends when the task is deleted.',
    subscribe: async ({ args, context }: Args<{ taskId: string; after?: string }>) => {
      const taskId = taskIdOf(args.taskId);
      return feedsOf(context).events(taskId, await startOf(context, taskId, args.after));
    },
  })
  taskEvents(@Root() event: TaskEventRow, @Arg('taskId', () => ID) _taskId: string, @Arg('after', () => String, { nullable: true }) _after?: string): TaskEvent {
    return taskEventNode(event);
  }

  @Subscription(() => TaskEvent, {
    description: 'Each snapshot a task takes in the cloud, from now (or after `after`).',
    subscribe: async ({ args, context }: Args<{ taskId: string; after?: string }>) => {
      const taskId = taskIdOf(args.taskId);
      return feedsOf(context).events(taskId, await startOf(context, taskId, args.after), ['snapshot.created']);
    },
  })
  snapshotCreated(@Root() event: TaskEventRow, @Arg('taskId', () => ID) _taskId: string, @Arg('after', () => String, { nullable: true }) _after?: string): TaskEvent {
    return taskEventNode(event);
  }

  @Subscription(() => [TaskProgress], {
    description: 'Progress of these tasks, in batches: the current state of each first, then the tasks that changed, each task at most `perSecond` times a second (its latest report wins).',
    subscribe: ({ args, context }: Args<{ taskIds: string[]; perSecond: number }>) => {
      if (!args.taskIds.length || args.taskIds.length > 1000) throw badInput('taskIds must name 1 to 1000 tasks.', 'taskIds');
      if (!Number.isInteger(args.perSecond) || args.perSecond < 1 || args.perSecond > 20) throw badInput('perSecond must be between 1 and 20.', 'perSecond');
      return feedsOf(context).progress(args.taskIds.map((id) => taskIdOf(id, 'taskIds')), 1000 / args.perSecond);
    },
  })
  // a batch reaches every client watching the same tasks at the same rate (TaskFeeds), and its
  // fields depend on nothing else: executed once for all of them
  @Extensions({ [SHARED_RESULTS]: true })
  taskProgress(@Root() views: ProgressView[], @Arg('taskIds', () => [ID]) _taskIds: string[], @Arg('perSecond', () => Int, { defaultValue: 4 }) _perSecond: number): TaskProgress[] {
    return views.map(progressNode);
  }
}
