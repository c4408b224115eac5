// The newcomer's story, end to end: the real `ferry serve` process (bin/ferry.js
// through tsx, as `npm start` runs it) with its own embedded PostgreSQL.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rest } from './support/clients.js';
import { freePort } from './support/ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'ferry.js');
const START_MS = 90_000; // tsx compiles on the fly, initdb on a first start
const STOP_MS = 15_000;
const TEST_MS = 180_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface FerryProcess {
  child: ChildProcess;
  /** stdout, line by line, as received so far */
  lines: string[];
  stdout(): string;
  stderr(): string;
  /** settles once the process has exited and its stdio is closed */
  closed: Promise<Exit>;
  running(): boolean;
}

interface Served {
  proc: FerryProcess;
  url: string;
  dataLine: string;
  password?: string;
  /** the postmaster's pid, from `${dataDir}/pg/postmaster.pid` while Ferry runs */
  pgPid: number;
}

const processes: FerryProcess[] = [];
const tempDirs: string[] = [];
const timings: Record<string, number> = {};

/** A fresh data dir; mkdtemp makes 0700 dirs, and the postgres OS user (we run as root) must traverse it. */
async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-serve-'));
  await chmod(dir, 0o755);
  tempDirs.push(dir);
  return dir;
}

/** The environment of a newcomer's shell: nothing of Ferry's, nothing of vitest's. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // NODE_ENV=test (set by vitest) would also change how Ferry behaves: Apollo Server only installs
  // its own SIGTERM/SIGINT handlers when NODE_ENV is not "test", and `npm start` does not set it.
  for (const key of Object.keys(env)) {
    if (key === 'DATABASE_URL' || key === 'NODE_ENV' || key === 'HOST' || key === 'PORT' || key === 'LOG_LEVEL' || key.startsWith('FERRY_') || key.startsWith('VITEST')) {
      delete env[key];
    }
  }
  return env;
}

function spawnFerry(args: string[], env: NodeJS.ProcessEnv): FerryProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const lines: string[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const closed = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      if (partial) lines.push(partial);
      partial = '';
      resolve({ code, signal });
    });
    child.on('error', () => resolve({ code: null, signal: null }));
  });
  const proc: FerryProcess = {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    closed,
    running: () => child.exitCode === null && child.signalCode === null,
  };
  processes.push(proc);
  return proc;
}

function serveEnv(dataDir: string, port: number, pgPort: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...baseEnv(),
    FERRY_DATA_DIR: dataDir,
    PORT: String(port),
    FERRY_EMBEDDED_PG_PORT: String(pgPort),
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

function describeProcess(proc: FerryProcess): string {
  return `stdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}`;
}

/** Starts `ferry serve` and waits for its "listening" line; rejects when it exits first. */
async function serve(env: NodeJS.ProcessEnv): Promise<Served> {
  const proc = spawnFerry(['serve'], env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ferry serve did not start within ${START_MS / 1000} s\n${describeProcess(proc)}`)), START_MS);
    const check = () => {
      const m = /^Ferry listening on (\S+) /m.exec(proc.stdout());
      if (m) {
        clearTimeout(timer);
        proc.child.stdout!.off('data', check);
        resolve(m[1]!);
      }
    };
    proc.child.stdout!.on('data', check);
    void proc.closed.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`ferry serve exited (${JSON.stringify(exit)}) before listening\n${describeProcess(proc)}`));
    });
  });
  // The three lines are written synchronously one after the other (stdout is a pipe: synchronous
  // on Linux), so one HTTP round trip later every line Ferry printed at start has arrived.
  const ready = await fetch(`${url}/readyz`);
  await ready.arrayBuffer();
  const dataLine = proc.lines.find((l) => l.startsWith('Data: '));
  if (!dataLine) throw new Error(`no Data line\n${describeProcess(proc)}`);
  const password = proc.lines.map((l) => /^Initial admin password \(.*\): admin \/ (\S+)$/.exec(l)?.[1]).find(Boolean);
  const pgPid = await postmasterPid(String(env.FERRY_DATA_DIR));
  if (!pgPid) throw new Error(`no postmaster.pid in ${env.FERRY_DATA_DIR}/pg while Ferry runs`);
  return { proc, url, dataLine, password, pgPid };
}

/** Runs a short-lived `ferry ...` to completion. */
async function runFerry(args: string[], env: NodeJS.ProcessEnv): Promise<Exit & { stdout: string; stderr: string }> {
  const proc = spawnFerry(args, env);
  const exit = await withTimeout(proc.closed, START_MS, `ferry ${args.join(' ')} did not exit`);
  return { ...exit, stdout: proc.stdout(), stderr: proc.stderr() };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
    }),
  ]);
}

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Gone = no such process, or a zombie (PID 1 here does not reap orphans; a zombie holds nothing). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); // "pid (comm) S ..."
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return true;
  }
}

/** True when `pid` is a live postgres serving the cluster in `${dataDir}/pg` (guards against pid reuse). */
function isPostmasterOf(pid: number, dataDir: string): boolean {
  if (isGone(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(path.join(dataDir, 'pg'));
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function killHard(proc: FerryProcess): Promise<void> {
  if (proc.running()) proc.child.kill('SIGKILL');
  await proc.closed;
}

/** Fast shutdown of a postmaster left behind, then SIGKILL if it lingers. */
async function stopLeftoverPostgres(dataDir: string): Promise<void> {
  const pid = await postmasterPid(dataDir);
  if (!pid || !isPostmasterOf(pid, dataDir)) return;
  process.kill(pid, 'SIGINT');
  if (await waitUntil(() => isGone(pid), STOP_MS)) return;
  process.kill(pid, 'SIGKILL');
  await waitUntil(() => isGone(pid), 5_000);
}

afterAll(async () => {
  for (const proc of processes) await killHard(proc);
  for (const dir of tempDirs) {
    await stopLeftoverPostgres(dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
  if (Object.keys(timings).length) {
    console.log(`serve-lifecycle timings (ms): ${Object.entries(timings).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  }
}, 60_000);

describe('ferry serve with embedded PostgreSQL', () => {
  // shared by the story's steps, which run in order on one data dir
  let dataDir: string;
  let port: number;
  let pgPort: number;
  let first: Served;
  let firstToken: string;
  let current: Served | undefined;

  it('first start: prints the URL, the embedded data dir and the initial password; is healthy, ready, and lets the admin in', async () => {
    dataDir = await tempDataDir();
    port = await freePort();
    pgPort = await freePort();

    const t0 = Date.now();
    first = await serve(serveEnv(dataDir, port, pgPort));
    timings.firstStart = Date.now() - t0;
    current = first;

    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    expect(first.dataLine).toBe(
      `Data: embedded PostgreSQL in ${path.join(dataDir, 'pg')} (127.0.0.1:${pgPort}), created now; keys in ${dataDir}`,
    );
    expect(first.password).toMatch(/^\S{6,20}$/);

    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${first.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });

    const login = await rest(first.url, '/Login', { UserName: 'admin', Password: first.password });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ Code: true, Data: { IsFirstLogin: true } });
    expect(typeof login.body.Data.Token).toBe('string');
    firstToken = login.body.Data.Token;

    // `ferry serve` runs with NODE_ENV=production by default; introspection stays on for frontends' tooling
    const introspection = await fetch(`${first.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${firstToken}` }, body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }) });
    expect(await introspection.json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });

    expect(isPostmasterOf(first.pgPid, dataDir)).toBe(true);
    expect(first.proc.stderr()).toBe('');
  }, TEST_MS);

  it('SIGTERM: exits 0 within 15 s after "Ferry stopped.", with its PostgreSQL stopped and both ports closed', async () => {
    expect(first, 'needs the first start').toBeDefined();
    const t0 = Date.now();
    first.proc.child.kill('SIGTERM');
    const exit = await withTimeout(first.proc.closed, STOP_MS, 'ferry serve did not exit after SIGTERM');
    timings.stop = Date.now() - t0;
    current = undefined;

    expect({ exit, stdoutTail: first.proc.lines.slice(-1), stderr: first.proc.stderr() }).toEqual({
      exit: { code: 0, signal: null },
      stdoutTail: ['Ferry stopped.'],
      stderr: '',
    });
    expect(isGone(first.pgPid), `postmaster ${first.pgPid} must be gone once Ferry has exited`).toBe(true);
    expect(await postmasterPid(dataDir)).toBeUndefined(); // a clean shutdown removes it
    expect(await portAnswers(port)).toBe(false);
    expect(await portAnswers(pgPort)).toBe(false);
  }, TEST_MS);

  it('second start on the same data dir: no new password; the first password and the old token still work', async () => {
    expect(first, 'needs the first start').toBeDefined();
    await killHard(first.proc); // in case the previous step left it running

    const t0 = Date.now();
    const second = await serve(serveEnv(dataDir, port, pgPort));
    timings.restart = Date.now() - t0;
    current = second;

    expect(second.url).toBe(first.url);
    expect(second.dataLine).toBe(`Data: embedded PostgreSQL in ${path.join(dataDir, 'pg')} (127.0.0.1:${pgPort}); keys in ${dataDir}`);
    expect(second.password).toBeUndefined();
    expect(second.proc.stdout()).not.toContain('password');

    const ready = await fetch(`${second.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });

    const login = await rest(second.url, '/Login', { UserName: 'admin', Password: first.password });
    expect(login.body).toMatchObject({ Code: true, Data: { IsFirstLogin: true } });

    // the signing key and the session survived the restart
    const reauth = await rest(second.url, '/ReAuth', {}, firstToken);
    expect(reauth.status).toBe(200);
    expect(reauth.body).toMatchObject({ Code: true, Data: { Token: expect.any(String) } });
  }, TEST_MS);

  it('crash recovery: after SIGKILL of Ferry its PostgreSQL keeps running, and the next start takes over', async () => {
    const crashed = current;
    expect(crashed, 'needs a running Ferry from the previous step').toBeDefined();
    const stalePid = crashed!.pgPid;

    crashed!.proc.child.kill('SIGKILL');
    expect(await withTimeout(crashed!.proc.closed, STOP_MS, 'ferry serve did not die after SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    current = undefined;
    expect(isPostmasterOf(stalePid, dataDir), 'the orphaned postmaster still runs').toBe(true);
    expect(await portAnswers(pgPort)).toBe(true);
    expect(await portAnswers(port)).toBe(false);

    const t0 = Date.now();
    const third = await serve(serveEnv(dataDir, port, pgPort));
    timings.restartAfterCrash = Date.now() - t0;
    current = third;

    expect(third.password).toBeUndefined();
    expect(third.pgPid).not.toBe(stalePid);
    expect(isGone(stalePid)).toBe(true);
    const ready = await fetch(`${third.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    const login = await rest(third.url, '/Login', { UserName: 'admin', Password: first.password });
    expect(login.body).toMatchObject({ Code: true, Data: { IsFirstLogin: true } });

    third.proc.child.kill('SIGTERM');
    await withTimeout(third.proc.closed, STOP_MS, 'ferry serve did not exit after SIGTERM');
    current = undefined;
  }, TEST_MS);

  it('FERRY_ADMIN_PASSWORD on a fresh data dir sets the admin password, which is then not printed', async () => {
    const dir = await tempDataDir();
    const p = await freePort();
    const pgp = await freePort();
    const given = 'Given-pass1';

    const served = await serve(serveEnv(dir, p, pgp, { FERRY_ADMIN_PASSWORD: given }));
    try {
      expect(served.dataLine).toContain(', created now;');
      expect(served.password).toBeUndefined();
      expect(served.proc.stdout()).not.toContain('password');
      expect(served.proc.stdout()).not.toContain(given);

      const login = await rest(served.url, '/Login', { UserName: 'admin', Password: given });
      expect(login.body).toMatchObject({ Code: true, Data: { IsFirstLogin: true } });
    } finally {
      served.proc.child.kill('SIGTERM');
      await withTimeout(served.proc.closed, STOP_MS, 'ferry serve did not exit after SIGTERM').catch(() => killHard(served.proc));
    }
  }, TEST_MS);

  it('a FERRY_ADMIN_PASSWORD that breaks the policy stops `ferry serve` with a plain message, PostgreSQL stopped', async () => {
    const dir = await tempDataDir();
    const result = await runFerry(['serve'], serveEnv(dir, await freePort(), await freePort(), { FERRY_ADMIN_PASSWORD: 'short' }));

    expect(result.code, describeProcess(processes.at(-1)!)).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('FERRY_ADMIN_PASSWORD');
    expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(result.stdout).not.toContain('Ferry listening');
    expect(await postmasterPid(dir)).toBeUndefined(); // its PostgreSQL was stopped cleanly
  }, TEST_MS);

  it('`ferry` with an unknown command exits 1 with the usage', async () => {
    const result = await runFerry(['frobnicate'], baseEnv());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stderr).toContain('Usage: ferry <command>');
    expect(result.stdout).toBe('');
  }, TEST_MS);

  it('FERRY_TOKEN_TTL=banana makes `ferry serve` exit non-zero with a message naming it, before touching the data dir', async () => {
    const dir = await tempDataDir();
    const result = await runFerry(['serve'], serveEnv(dir, await freePort(), await freePort(), { FERRY_TOKEN_TTL: 'banana' }));
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('FERRY_TOKEN_TTL');
    expect(result.stderr).toContain('"banana"');
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).toBe('');
    expect(await readdir(dir)).toEqual([]);
  }, TEST_MS);
});
