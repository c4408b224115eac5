import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/graphql/global-id.js';
import { legacyTime } from '../src/rest/legacy-time.js';
import { startFerry, type RunningFerry } from '../src/server.js';
import { TaskEventsDocument } from './generated/graphql.js';
import { rest } from './support/clients.js';
import { freePort } from './support/ports.js';
import { subscribe, type LiveSubscription } from './support/subscriptions.js';
import { scribble, startTaskWorld, TEST_TIMINGS, type TaskWorld } from './support/task-fixture.js';
import { spawnFerry } from './support/transport-fixture.js';
import { until } from './support/wait.js';

const MiB = 1024 * 1024;
const BIN = path.resolve('bin/ferry.js');

/** `ferry serve` as a real process on the test's database and data directory. */
async function serve(w: TaskWorld, port: number): Promise<ChildProcess> {
  const env = {
    PATH: process.env.PATH,
    DATABASE_URL: w.t.config.databaseUrl,
    FERRY_DATA_DIR: w.t.config.dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    FERRY_LICENSE_PUBLIC_KEY: w.t.config.licensePublicKey,
    FERRY_CALLBACK_URL: w.t.config.callbackUrl,
    FERRY_HOST_CHECK_SECONDS: '3600',
  };
  const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await until(() => /Ferry listening on /.test(out) || child.exitCode !== null, 30_000);
  if (child.exitCode !== null) throw new Error(`ferry serve exited: ${out}`);
  return child;
}

const kill9 = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

type Event = { Number: number; Msg: string };

describe('tasks survive a Ferry killed mid-copy, and several Ferry processes share one database', () => {
  let w: TaskWorld;
  let port: number;
  let served: ChildProcess | undefined;
  let replicaA: RunningFerry | undefined;
  let replicaB: RunningFerry | undefined;
  const subscriptions: LiveSubscription<unknown>[] = [];
  const [linesA, linesB] = [[] as string[], [] as string[]];
  const loggerFor = (lines: string[]) => pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { lines.push(...chunk.toString().trim().split('\n')); done(); } }));
  /** in place of `ferry serve`: two in-process Ferry replicas on the database, with fast test pacing */
  const twoReplicas = async () => {
    if (served) await kill9(served);
    served = undefined;
    replicaA ??= await startFerry({ ...w.t.config, port, engineTimings: TEST_TIMINGS }, loggerFor(linesA));
    replicaB ??= await startFerry({ ...w.t.config, port: 0, engineTimings: TEST_TIMINGS }, loggerFor(linesB));
  };
  const call = (body: Record<string, unknown>) => rest(`http://127.0.0.1:${port}`, '/MgmtTask', body, w.token);

  beforeAll(async () => {
    port = await freePort();
    // transports are told to send their events to the port `ferry serve` will use
    w = await startTaskWorld({ callbackUrl: `http://127.0.0.1:${port}/v1/transport-events` });
    // 12 MiB that must cross the wire (zeros do not): at QosLimit 4 MB/s the first copy lasts seconds
    await scribble(w.images.data, 2 * MiB, 12 * MiB);
    await w.t.ferry.close();
    served = await serve(w, port);
  }, 120_000);
  afterAll(async () => {
    for (const s of subscriptions) await s.close();
    await replicaB?.close();
    await replicaA?.close();
    if (served && served.exitCode === null) await kill9(served);
    await w?.close();
  });

  it('goes on after kill -9 in the middle of a copy: the copy finishes once, its snapshot is taken once, no event is lost', async () => {
    const created = await call({
      Action: 'PrepareTaskWorkload', Name: 'survivor', HostId: w.hostId, CloudId: w.cloudId, TargetTransId: w.transportId, IntervalMinutes: 60, MaxSnapsNum: 3,
      StartTime: legacyTime(new Date(Date.now() - 60_000)), NetworkId: w.networkId,
      QosLimit: 4, // ~14 MiB of data at 4 MB/s: the copy lasts seconds, time to kill Ferry in its middle even on a busy machine
    });
    expect(created.body.Code, created.text).toBe(0);
    const id = created.body.Data.ID;
    const detail = async () => (await call({ Action: 'GetTaskDetail', Id: id })).body.Data;
    // killed once bytes have moved, while the copy still runs
    await until(async () => {
      const d = await detail();
      return d.ActionState === 1001 && d.SnapTimes === 1 && d.TransferedSize > 0;
    }, 30_000);
    expect((await detail()).ActionState).toBe(1001); // still copying
    await kill9(served!);

    served = await serve(w, port);
    await until(async () => (await detail()).ActionState === 1002, 60_000);
    const history = (await call({ Action: 'DisplayTaskHistory', Id: id })).body.Data as Event[];
    const messages = history.map((e) => e.Msg);
    expect(messages.filter((m) => /full copy 1 started/.test(m))).toHaveLength(1);
    expect(messages.filter((m) => /copy 1 finished/.test(m))).toHaveLength(1);
    expect(messages.filter((m) => /snapshot of copy 1 taken/.test(m))).toHaveLength(1);
    expect(history.map((e) => e.Number)).toEqual(history.map((_, i) => i + 1));
    const snapshots = (await call({ Action: 'ListSnapshots', Id: id })).body.Data;
    expect(snapshots).toHaveLength(1);
    await call({ Action: 'DeleteTask', Id: id });
  });

  it('runs each step on exactly one of two processes, and each delivers every event to its own subscribers', async () => {
    await twoReplicas();
    /** the steps each process ran, from its own log */
    const stepsOf = (lines: string[]) => lines.filter((l) => l.includes('"msg":"task step done"')).map((l) => JSON.parse(l) as { step: string });
    const created = await call({
      Action: 'PrepareTaskWorkload', Name: 'shared', HostId: w.hostId, CloudId: w.cloudId, TargetTransId: w.transportId, IntervalMinutes: 1, MaxSnapsNum: 2,
      StartTime: legacyTime(new Date(Date.now() - 60_000)), NetworkId: w.networkId,
    });
    expect(created.body.Code, created.text).toBe(0);
    const taskId = toGlobalId('Task', created.body.Data.ID);
    const onA = subscribe(replicaA!.url, w.token, TaskEventsDocument, { taskId, after: '0' });
    const onB = subscribe(replicaB!.url, w.token, TaskEventsDocument, { taskId, after: '0' });
    subscriptions.push(onA as LiveSubscription<unknown>, onB as LiveSubscription<unknown>);
    const snapshotsSeen = () => onB.received.filter((e) => e.taskEvents.type === 'snapshot.created').length;
    await until(() => snapshotsSeen() >= 6, 60_000);
    await until(() => onA.received.length >= onB.received.length, 10_000);

    // both processes ran steps of the task
    const [stepsA, stepsB] = [stepsOf(linesA), stepsOf(linesB)];
    expect(stepsA.length).toBeGreaterThan(0);
    expect(stepsB.length).toBeGreaterThan(0);
    // and no step ran twice: each copy started once, each snapshot taken once
    const seqOf = (s: typeof onA) => s.received.map((e) => e.taskEvents.seq);
    expect(seqOf(onA).slice(0, onB.received.length)).toEqual(seqOf(onB));
    expect(seqOf(onB)).toEqual(seqOf(onB).map((_, i) => i + 1));
    const started = onB.received.filter((e) => e.taskEvents.type === 'cycle.started').map((e) => e.taskEvents.message.match(/copy (\d+)/)?.[1]);
    expect(new Set(started).size).toBe(started.length);
    const taken = onB.received.filter((e) => e.taskEvents.type === 'snapshot.created').map((e) => e.taskEvents.message);
    expect(new Set(taken).size).toBe(taken.length);
  }, 90_000);

  it('sets a task in error when its agent is lost, refuses to complete it then, and ContinueTask resumes the copy', async () => {
    await twoReplicas();
    const list = (await call({ Action: 'ListTasks' })).body.Data.AgentTasks as { Id: string }[];
    for (const t of list) await call({ Action: 'DeleteTask', Id: t.Id });
    const created = await call({
      Action: 'PrepareTaskWorkload', Name: 'fragile', HostId: w.hostId, CloudId: w.cloudId, TargetTransId: w.transportId, IntervalMinutes: 1, MaxSnapsNum: 2,
      StartTime: legacyTime(new Date(Date.now() - 60_000)), NetworkId: w.networkId,
    });
    const id = created.body.Data.ID;
    const detail = async () => (await call({ Action: 'GetTaskDetail', Id: id })).body.Data;
    await until(async () => (await detail()).ActionState === 1002, 30_000);

    await w.agent.stop();
    await until(async () => (await detail()).ActionState === 1003, 30_000);
    const failed = await detail();
    expect(failed.Status).toMatch(/^the copy failed: .*agent/);
    const refused = await call({ Action: 'CompleteTask', Id: id });
    expect(refused.status).toBe(409);
    expect(refused.body.Msg).toBe('The task is in error (1003): it cannot complete it now.');
    const history = (await call({ Action: 'DisplayTaskHistory', Id: id })).body.Data as Event[];
    expect(history.some((e) => /trying again in/.test(e.Msg))).toBe(true); // a transient failure is retried first

    w.agent = await spawnFerry('agent', w.agent.args, w.agent.port);
    const continued = await call({ Action: 'ContinueTask', Id: id });
    expect(continued.body).toEqual({ Code: 0, Msg: 'Continue Task Success.', Data: null });
    await until(async () => (await detail()).ActionState === 1002 && (await detail()).SnapTimes > failed.SnapTimes, 30_000);
    const again = await call({ Action: 'ContinueTask', Id: id });
    expect(again.status).toBe(409);
    expect(again.body.Msg).toMatch(/^The task is (snapshotted|copying) \(100[12]\): it cannot continue it now\.$/);
  }, 90_000);
});
