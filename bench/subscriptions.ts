/**
 * Subscription fan-out benchmark (`npm run bench:subscriptions`; not a test).
 *
 * Starts a real `ferry serve` on a fresh database, seeds BENCH_TASKS running tasks, and connects
 * BENCH_SUBSCRIBERS graphql-ws clients, each subscribed to `taskProgress` of BENCH_PER_CLIENT
 * tasks. A publisher then reports progress for every task BENCH_RATE times a second for
 * BENCH_SECONDS, the way the engine does for a transport's report: the row is updated and the
 * progress notified in one transaction. The same messages are then sent through a bare `ws`
 * server to the same number of clients with the same fan-out: the floor.
 *
 * Latency is from the report's timestamp (taken as its transaction starts; the floor's as it is
 * sent) to its arrival at a client. Each task reports at its own moment of the round. `notify_*`:
 * the same from the timestamp to the notification's arrival at a LISTEN connection of the
 * benchmark: the part of the latency spent before Ferry could see the report (the transaction,
 * PostgreSQL, a busy machine). `messages`: graphql-ws messages the
 * clients received (taskProgress batches, each with one or more reports). `lost`
 * counts subscriptions that never saw their task's last report; `duplicated` counts reports a
 * subscription saw twice. (taskProgress coalesces: a client may skip intermediate reports.)
 * The last line printed is one JSON object. See docs/benchmarks.md.
 *
 * DATABASE_URL       a PostgreSQL where the benchmark may create and drop a database
 *                    (default postgresql://root@127.0.0.1:5432/postgres)
 * BENCH_FERRY_NODE_ARGS  extra node options for `ferry serve`, e.g. to profile it:
 *                    "--cpu-prof --cpu-prof-dir=/tmp/ferry-prof" (written when Ferry exits)
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket, { WebSocketServer } from 'ws';
import { fromGlobalId } from '../src/graphql/global-id.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 200);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const PER_CLIENT = Number(process.env.BENCH_PER_CLIENT ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 1);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/postgres';
const PASSWORD = 'Bench-pass-1';

const log = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

/** The reports each subscription (client × task) saw. */
class Tally {
  readonly latencies: number[] = [];
  received = 0;
  duplicated = 0;
  private readonly seen = new Map<string, Set<number>>();

  take(client: number, taskId: string, n: number, sentAt: number): void {
    this.received++;
    this.latencies.push(Date.now() - sentAt);
    const key = `${client}:${taskId}`;
    let set = this.seen.get(key);
    if (!set) this.seen.set(key, (set = new Set()));
    if (set.has(n)) this.duplicated++;
    set.add(n);
  }

  /** subscriptions (client × task) that did not see the task's last report */
  lost(wanted: Map<number, string[]>, last: number): number {
    let lost = 0;
    for (const [client, tasks] of wanted) for (const t of tasks) if (!this.seen.get(`${client}:${t}`)?.has(last)) lost++;
    return lost;
  }
}

/** CPU seconds a process used so far (user + system), from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main(): Promise<void> {
  const dbName = `ferry_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-'));
  const port = 20000 + Math.floor(Math.random() * 5000);
  const nodeArgs = (process.env.BENCH_FERRY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const ferry = spawn(process.execPath, [...nodeArgs, path.resolve('bin/ferry.js'), 'serve'], {
    env: { PATH: process.env.PATH, DATABASE_URL: dbUrl.toString(), FERRY_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', FERRY_ADMIN_PASSWORD: PASSWORD, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  ferry.stdout!.on('data', (d) => (out += d));
  ferry.stderr!.on('data', (d) => (out += d));
  const base = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  try {
    for (const end = Date.now() + 60_000; !out.includes('Ferry listening on'); await sleep(100)) if (Date.now() > end || ferry.exitCode !== null) throw new Error(`ferry serve did not start: ${out}`);
    const login = (await (await fetch(`${base}/Login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ UserName: 'admin', Password: PASSWORD }) })).json()) as { Data: { Token: string; IsFirstLogin: boolean } };
    const token: string = login.Data.Token;
    // the initial password must be changed before anything else is allowed
    const changed = (await (await fetch(`${base}/MgntSetting`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: token }, body: JSON.stringify({ Action: 'ChangePassword', UserName: 'admin', Password: PASSWORD, NewPassword: `${PASSWORD}x` }) })).json()) as { Code: boolean; Msg: string };
    if (changed.Code !== true) throw new Error(`ChangePassword: ${changed.Msg}`);

    // seed: one cloud, one transport, TASKS hosts with a running task each
    await db.connect();
    const cloudId = randomUUID();
    const transportId = randomUUID();
    await db.query(`insert into cloud_connections (id, name, cloud_type, cloud_user, cloud_pass_sealed, cloud_addr) values ($1, 'bench', 'Openstack', 'u', 'v1.unused', '127.0.0.1')`, [cloudId]);
    await db.query(`insert into transport_servers (id, name, serv_type, mgnt_addr, cloud_id) values ($1, 'bench', 'Cloud', '127.0.0.1:1', $2)`, [transportId, cloudId]);
    const taskIds: string[] = [];
    for (let i = 0; i < TASKS; i++) {
      const hostId = randomUUID();
      const taskId = randomUUID();
      await db.query(`insert into source_hosts (id, name, agent) values ($1, $2, true)`, [hostId, `host-${i}`]);
      await db.query(
        `insert into tasks (id, name, source_host_id, cloud_id, target_transport_id, interval_minutes, max_snaps_num, start_time, action_state, snap_times, cycle_id, snapshot_size)
         values ($1, $2, $3, $4, $5, 60, 3, now(), 1001, 1, $6, $7)`,
        [taskId, `task-${i}`, hostId, cloudId, transportId, `${taskId}.1`, 1e12],
      );
      taskIds.push(taskId);
    }
    const wanted = new Map<number, string[]>();
    for (let c = 0; c < SUBSCRIBERS; c++) wanted.set(c, Array.from({ length: PER_CLIENT }, (_, k) => taskIds[(c * PER_CLIENT + k) % TASKS]));
    /** the message of report n of a task, as the engine notifies it */
    const report = (taskId: string, n: number, at: number) => JSON.stringify({ taskId, cycleId: `${taskId}.1`, percent: 0, snapshotSize: 1e12, transferredSize: n, predictDoneSeconds: null, disks: [], at: new Date(at).toISOString() });

    /**
     * Reports every task RATE times a second for SECONDS, each task at its own moment of the round
     * (independent transports do not report in step); returns how many were sent per task.
     */
    const publish = async (send: (taskId: string, n: number) => Promise<void>): Promise<number> => {
      const rounds = SECONDS * RATE;
      const roundMs = 1000 / RATE;
      for (let n = 1; n <= rounds; n++) {
        const started = Date.now();
        const sent: Promise<void>[] = [];
        for (const [i, t] of taskIds.entries()) {
          const due = started + (i * roundMs) / taskIds.length;
          if (due > Date.now()) await sleep(due - Date.now());
          sent.push(send(t, n));
        }
        await Promise.all(sent);
        await sleep(Math.max(0, roundMs - (Date.now() - started)));
      }
      return rounds;
    };

    // -- Ferry
    const tally = new Tally();
    const failures: unknown[] = [];
    let ready = 0;
    let messages = 0;
    for (let c = 0; c < SUBSCRIBERS; c++) {
      const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, connectionParams: { Authorization: token }, lazy: false, retryAttempts: 0, onNonLazyError: () => {} });
      clients.push(client);
      let first = true;
      client.subscribe<{ taskProgress: { taskId: string; transferredSize: number; at: string }[] }>(
        { query: 'subscription($ids: [ID!]!) { taskProgress(taskIds: $ids, perSecond: 10) { taskId transferredSize at } }', variables: { ids: wanted.get(c)! } },
        {
          next: (r) => {
            messages++;
            for (const p of r.data?.taskProgress ?? []) {
              if (p.transferredSize === 0) {
                // the current state, sent first on subscribing
                if (first) ready++;
                first = false;
                continue;
              }
              tally.take(c, fromGlobalId(p.taskId)!.id, p.transferredSize, Date.parse(p.at));
            }
          },
          error: (e) => failures.push(e),
          complete: () => {},
        },
      );
    }
    for (const end = Date.now() + 120_000; ready < SUBSCRIBERS; await sleep(200)) if (Date.now() > end) throw new Error(`only ${ready} of ${SUBSCRIBERS} subscriptions started: ${(failures[0] as { code?: number; reason?: string; message?: string })?.reason ?? String(failures[0])}`);
    log(`${SUBSCRIBERS} subscribers × ${PER_CLIENT} tasks of ${TASKS}; ${RATE} report/s per task for ${SECONDS} s`);
    const listener = new pg.Client({ connectionString: dbUrl.toString() });
    await listener.connect();
    const notified: number[] = [];
    listener.on('notification', (m) => notified.push(Date.now() - Date.parse((JSON.parse(m.payload!) as { at: string }).at)));
    await listener.query('LISTEN ferry_task_progress');
    const cpu0 = await cpuSeconds(ferry.pid!);
    const messages0 = messages;
    const t0 = Date.now();
    const pool = new pg.Pool({ connectionString: dbUrl.toString(), max: 8 });
    const last = await publish(async (taskId, n) => {
      const c = await pool.connect();
      try {
        // stamped when the report is written, as the engine writes a transport's report
        const at = Date.now();
        await c.query('begin');
        await c.query(`update tasks set transferred_size = $2, progress_at = $3 where id = $1`, [taskId, n, new Date(at)]);
        await c.query('select pg_notify($1, $2)', ['ferry_task_progress', report(taskId, n, at)]);
        await c.query('commit');
      } finally {
        c.release();
      }
    });
    await pool.end();
    await sleep(2_000);
    const ferrySeconds = (Date.now() - t0) / 1000;
    const ferryCpu = (await cpuSeconds(ferry.pid!)) - cpu0;
    await listener.end();
    const notifiedSorted = notified.sort((a, b) => a - b);
    const notify = { p50: percentile(notifiedSorted, 50), p99: percentile(notifiedSorted, 99) };
    const sorted = [...tally.latencies].sort((a, b) => a - b);
    const ferryResult = { p50: percentile(sorted, 50), p99: percentile(sorted, 99), perSecond: tally.received / (ferrySeconds - 2), lost: tally.lost(wanted, last), duplicated: tally.duplicated };
    log(`Ferry: ${tally.received} reports delivered in ${messages - messages0} messages, p50 ${ferryResult.p50} ms, p99 ${ferryResult.p99} ms, ${ferryResult.perSecond.toFixed(0)}/s, CPU ${ferryCpu.toFixed(1)} s in ${ferrySeconds.toFixed(1)} s, lost ${ferryResult.lost}, duplicated ${ferryResult.duplicated}`);
    log(`  notifications (the benchmark's LISTEN): p50 ${notify.p50} ms, p99 ${notify.p99} ms after the report's timestamp`);
    for (const c of clients) await c.dispose();

    // -- the floor: a bare ws server sending each report to the clients that watch its task
    const floor = new Tally();
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    const watchers = new Map<string, WebSocket[]>();
    let connected = 0;
    wss.on('connection', (socket, req) => {
      const c = Number(new URL(req.url!, 'http://x').searchParams.get('c'));
      for (const t of wanted.get(c)!) watchers.set(t, [...(watchers.get(t) ?? []), socket]);
      connected++;
    });
    const floorPort = (wss.address() as { port: number }).port;
    const floorClients: WebSocket[] = [];
    for (let c = 0; c < SUBSCRIBERS; c++) {
      const socket = new WebSocket(`ws://127.0.0.1:${floorPort}/?c=${c}`);
      socket.on('message', (data) => {
        const p = JSON.parse(data.toString()) as { taskId: string; transferredSize: number; at: string };
        floor.take(c, p.taskId, p.transferredSize, Date.parse(p.at));
      });
      floorClients.push(socket);
    }
    for (const end = Date.now() + 60_000; connected < SUBSCRIBERS; await sleep(100)) if (Date.now() > end) throw new Error('floor clients did not connect');
    const f0 = Date.now();
    await publish(async (taskId, n) => {
      const message = report(taskId, n, Date.now());
      for (const socket of watchers.get(taskId) ?? []) socket.send(message);
    });
    await sleep(2_000);
    const floorSeconds = (Date.now() - f0) / 1000;
    const floorSorted = [...floor.latencies].sort((a, b) => a - b);
    const floorPerSecond = floor.received / (floorSeconds - 2);
    log(`floor (bare ws): ${floor.received} reports delivered, p50 ${percentile(floorSorted, 50)} ms, p99 ${percentile(floorSorted, 99)} ms, ${floorPerSecond.toFixed(0)}/s`);
    for (const s of floorClients) s.terminate();
    await new Promise((resolve) => wss.close(resolve));

    log(JSON.stringify({ p50_ms: ferryResult.p50, p99_ms: ferryResult.p99, events_per_s: Math.round(ferryResult.perSecond), floor_events_per_s: Math.round(floorPerSecond), lost: ferryResult.lost, duplicated: ferryResult.duplicated, ferry_cpu_s: Number(ferryCpu.toFixed(1)), notify_p50_ms: notify.p50, notify_p99_ms: notify.p99, messages: messages - messages0 }));
  } finally {
    for (const c of clients) await Promise.resolve(c.dispose()).catch(() => {});
    await db.end().catch(() => {});
    ferry.kill('SIGTERM');
    await new Promise((resolve) => ferry.once('exit', resolve));
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
