import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/graphql/global-id.js';
import {
  SnapshotCreatedDocument, TaskCompleteDocument, TaskCreateInstanceDocument, TaskDeleteDocument, TaskDetailDocument, TaskEventsDocument, TaskPrepareDocument,
  TaskProgressFeedDocument, TasksDocument, TaskUpdateDocument, type TaskEventsSubscription, type TaskPrepareInput,
} from './generated/graphql.js';
import { graphql } from './support/clients.js';
import { subscribe, type LiveSubscription } from './support/subscriptions.js';
import { sameBytes, scribble, startTaskWorld, type TaskWorld } from './support/task-fixture.js';
import { until } from './support/wait.js';

const MiB = 1024 * 1024;

describe('a migration task through GraphQL, watched live over graphql-ws', () => {
  let w: TaskWorld;
  let taskId: string;
  const subscriptions: LiveSubscription<unknown>[] = [];
  const watch = <T, V extends Record<string, unknown>>(...args: Parameters<typeof subscribe<T, V>>) => {
    const s = subscribe(...args);
    subscriptions.push(s as LiveSubscription<unknown>);
    return s;
  };
  const detail = async () => {
    const r = await graphql(w.t.url, TaskDetailDocument, { id: taskId }, w.token);
    const node = r.data?.node;
    if (!node || !('taskId' in node)) throw new Error(JSON.stringify(r));
    return node;
  };
  const input = (fields: Partial<TaskPrepareInput> = {}): TaskPrepareInput => ({
    name: 'gql-move',
    sourceHostId: toGlobalId('SourceHost', w.hostId),
    cloudId: toGlobalId('Cloud', w.cloudId),
    targetTransportId: toGlobalId('TransportServer', w.transportId),
    intervalMinutes: 1,
    maxSnapsNum: 3,
    startTime: new Date(Date.now() + 5 * 60_000).toISOString(),
    networkId: w.networkId,
    volumes: [{ volumeName: w.images.boot, volumeType: 'ssd' }, { volumeName: w.images.data }],
    ...fields,
  });
  const seqs = (items: TaskEventsSubscription[]) => items.map((e) => e.taskEvents.seq);

  beforeAll(async () => {
    w = await startTaskWorld();
  }, 90_000);
  afterAll(async () => {
    for (const s of subscriptions) await s.close();
    await w?.close();
  });

  it('refuses bad input as userErrors naming the GraphQL field, and a taken server name with the names', async () => {
    const bad = await graphql(w.t.url, TaskPrepareDocument, { input: input({ intervalMinutes: 0 }) }, w.token);
    expect(bad.data?.taskPrepare).toMatchObject({ task: null, userErrors: [{ field: 'intervalMinutes', code: 'INVALID_INPUT', message: expect.stringMatching(/^IntervalMinutes must be/) }] });
    const disk = await graphql(w.t.url, TaskPrepareDocument, { input: input({ volumes: [{ volumeName: '/dev/sdz' }] }) }, w.token);
    expect(disk.data?.taskPrepare.userErrors[0]).toMatchObject({ field: 'volumes', code: 'INVALID_INPUT' });
    const taken = await graphql(w.t.url, TaskPrepareDocument, { input: input({ targetServerName: 'ferry-transport' }) }, w.token);
    expect(taken.data?.taskPrepare).toMatchObject({ task: null, repeated: ['ferry-transport'], userErrors: [{ field: 'targetServerName', code: 'CONFLICT' }] });
    expect((await graphql(w.t.url, TasksDocument, {}, w.token)).data?.tasks.totalCount).toBe(0);
  });

  it('creates a task and streams its log and progress while it copies', async () => {
    const created = await graphql(w.t.url, TaskPrepareDocument, { input: input() }, w.token);
    expect(created.data?.taskPrepare.userErrors).toEqual([]);
    const task = created.data!.taskPrepare.task!;
    expect(task).toMatchObject({ name: 'gql-move', state: 'CREATED', actionState: 1000, finalSync: 'NONE', snapTimes: 0 });
    taskId = task.id;

    const events = watch(w.t.url, w.token, TaskEventsDocument, { taskId, after: '0' });
    const progress = watch(w.t.url, w.token, TaskProgressFeedDocument, { taskIds: [taskId], perSecond: 10 });
    // a second dashboard watching the same task at the same rate shares the first one's feed
    const twin = watch(w.t.url, w.token, TaskProgressFeedDocument, { taskIds: [taskId], perSecond: 10 });
    await until(() => progress.received.length > 0 && twin.received.length > 0, 10_000);
    expect(w.t.ferry.feeds.openProgressFeeds).toBe(1);
    const snapshots = watch(w.t.url, w.token, SnapshotCreatedDocument, { taskId });
    // the before-StartTime rules: the schedule may still change
    const moved = await graphql(w.t.url, TaskUpdateDocument, { input: { taskId, maxSnapsNum: 2, startTime: new Date(Date.now() - 1_000).toISOString() } }, w.token);
    expect(moved.data?.taskUpdate.userErrors).toEqual([]);

    await until(() => snapshots.received.length >= 2, 30_000);
    await until(() => events.received.some((e) => e.taskEvents.type === 'snapshot.deleted') || snapshots.received.length >= 3, 30_000);
    const first = seqs(events.received);
    expect(first[0]).toBe(1); // the replay from cursor 0 starts at the first event
    expect(first).toEqual(first.map((_, i) => i + 1)); // no gap, no duplicate
    const types = events.received.map((e) => e.taskEvents.type);
    expect(types.slice(0, 3)).toEqual(['task.created', 'task.updated', 'state.changed']);
    expect(types).toContain('cycle.started');
    expect(types).toContain('cycle.finished');
    expect(progress.received[0]).toMatchObject({ taskProgress: [{ taskId }] });
    const reports = progress.received.flatMap((p) => p.taskProgress);
    expect(reports.every((r) => r.taskId === taskId)).toBe(true);
    expect(reports.some((r) => r.percent === 100 && r.snapshotSize === 80 * MiB)).toBe(true);
    expect(snapshots.received[0].snapshotCreated).toMatchObject({ type: 'snapshot.created', message: expect.stringMatching(/^snapshot of copy 1 taken/) });
    // the twin saw the same reports (its first message may hold an older current state)
    const twinReports = twin.received.flatMap((p) => p.taskProgress);
    expect(twinReports.some((r) => r.percent === 100 && r.snapshotSize === 80 * MiB)).toBe(true);
    expect(twin.received.slice(1).flatMap((p) => p.taskProgress).every((r) => reports.some((x) => JSON.stringify(x) === JSON.stringify(r)))).toBe(true);
    // a dashboard that leaves ends its feed at once, even while nothing is reported
    await Promise.all([progress.close(), twin.close()]);
    await until(() => w.t.ferry.feeds.openProgressFeeds === 0, 5_000);

    // the dashboard drops, events go on; back with its last cursor it misses nothing and sees nothing twice
    await events.close();
    const lastCursor = events.received.at(-1)!.taskEvents.cursor;
    await until(async () => (await detail()).events.length > first.length + 3, 30_000);
    const resumed = watch(w.t.url, w.token, TaskEventsDocument, { taskId, after: lastCursor });
    await until(() => resumed.received.length >= 3, 10_000);
    const all = [...first, ...seqs(resumed.received as TaskEventsSubscription[])];
    expect(all).toEqual(all.map((_, i) => i + 1));
    const log = (await detail()).events.map((e) => e.seq);
    expect(log.slice(0, all.length)).toEqual(all);
  });

  it('shows the task with its relations, volumes, snapshots and throughput, and on its source host', async () => {
    const d = await detail();
    expect(d).toMatchObject({ sourceHost: { name: 'web-1', tasks: [{ name: 'gql-move' }] }, cloud: { name: 'sim-cloud' }, targetTransport: { name: 'cloud-transport' } });
    expect(d.volumes).toEqual([
      { volumeName: w.images.boot, volumeSizeGb: 1, cloudVolumeName: expect.stringMatching(/^ferry-.*-disk0$/), cloudVolumeId: expect.any(String), boot: true },
      { volumeName: w.images.data, volumeSizeGb: 1, cloudVolumeName: expect.stringMatching(/^ferry-.*-disk1$/), cloudVolumeId: expect.any(String), boot: false },
    ]);
    expect(d.snapshots.length).toBeLessThanOrEqual(2);
    expect(d.throughput.last2Minutes).toBeGreaterThan(0);
    const late = await graphql(w.t.url, TaskUpdateDocument, { input: { taskId, intervalMinutes: 9 } }, w.token);
    expect(late.data?.taskUpdate.userErrors[0]).toMatchObject({ field: 'intervalMinutes', code: 'CONFLICT' });
  });

  it('completes, converts, boots the server, and ends the log subscription when deleted', async () => {
    await scribble(w.images.data, 12 * MiB);
    const done = await graphql(w.t.url, TaskCompleteDocument, { input: { taskId } }, w.token);
    expect(done.data?.taskComplete).toMatchObject({ task: { finalSync: 'REQUESTED' }, userErrors: [] });
    await until(async () => (await detail()).state === 'WAITING_FOR_INSTANCE', 30_000);
    const rows = await w.t.ferry.db.orm.em.getConnection().execute<{ device: string }[]>(`select device from task_volumes order by position`);
    expect(await sameBytes(w.images.data, rows[1].device)).toBe(true);
    const noNetwork = await graphql(w.t.url, TaskCreateInstanceDocument, { input: { taskId, networkId: 'nowhere', flavorId: w.flavorId } }, w.token);
    expect(noNetwork.data?.taskCreateInstance.userErrors[0]).toMatchObject({ field: 'networkId', code: 'INVALID_INPUT' });
    const boot = await graphql(w.t.url, TaskCreateInstanceDocument, { input: { taskId, cpu: 1, memory: 1, targetServerName: 'gql-migrated' } }, w.token);
    expect(boot.data?.taskCreateInstance).toMatchObject({ task: { state: 'CREATING_INSTANCE' }, userErrors: [] });
    await until(async () => (await detail()).state === 'COMPLETED', 30_000);
    expect((await detail()).targetServerId).toEqual(expect.any(String));

    const watching = watch(w.t.url, w.token, TaskEventsDocument, { taskId });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const deleted = await graphql(w.t.url, TaskDeleteDocument, { input: { taskId } }, w.token);
    expect(deleted.data?.taskDelete).toMatchObject({ deletedTaskId: taskId, creditReturned: false, leftInCloud: expect.arrayContaining([expect.stringMatching(/^server gql-migrated /)]), userErrors: [] });
    await watching.completed;
    expect(watching.errors).toEqual([]);
    expect((await graphql(w.t.url, TaskDetailDocument, { id: taskId }, w.token)).data?.node).toBeNull();
  });
});
