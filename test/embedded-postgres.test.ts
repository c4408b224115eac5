import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded-postgres.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'embedded-postgres-child.ts');
const TIMEOUT = 60_000;

const bases: string[] = [];
const running = new Set<EmbeddedPostgres>();

// mkdtemp makes 0700 dirs; the postgres OS user (when we run as root) must traverse it.
async function tempDir(): Promise<string> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'ferry-embedded-pg-'));
  await chmod(base, 0o755);
  bases.push(base);
  return path.join(base, 'data');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function start(dir: string, port: number): Promise<EmbeddedPostgres> {
  const db = await startEmbeddedPostgres({ dir, port });
  running.add(db);
  return db;
}

async function stop(db: EmbeddedPostgres): Promise<void> {
  await db.stop();
  running.delete(db);
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  return pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  for (const db of running) await db.stop();
  // A failed stale-postmaster test could leave an orphaned postgres behind.
  for (const base of bases) {
    const pid = await postmasterPid(path.join(base, 'data', 'pg'));
    if (pid && isAlive(pid)) process.kill(pid, 'SIGQUIT');
    await rm(base, { recursive: true, force: true });
  }
}, TIMEOUT);

describe('startEmbeddedPostgres', () => {
  it('creates the cluster on first start and reuses it on the next', async () => {
    const dir = await tempDir();
    const port = await freePort();

    const first = await start(dir, port);
    expect(first.created).toBe(true);
    expect(first.dataDir).toBe(path.join(dir, 'pg'));
    expect(first.url).toMatch(new RegExp(`^postgres://ferry:[^@]+@127\\.0\\.0\\.1:${port}/ferry$`));
    await query(first.url, 'CREATE TABLE t (v text)');
    await query(first.url, `INSERT INTO t VALUES ('kept')`);
    await stop(first);
    await first.stop(); // idempotent
    expect(await postmasterPid(first.dataDir)).toBeUndefined();

    const second = await start(dir, port);
    expect(second.created).toBe(false);
    expect(second.url).toBe(first.url);
    expect(await query<{ v: string }>(second.url, 'SELECT v FROM t')).toEqual([{ v: 'kept' }]);
    await stop(second);
  }, TIMEOUT);

  it('recovers from a postmaster left running by a SIGKILLed Node process', async () => {
    const dir = await tempDir();
    const port = await freePort();

    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, String(port)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const m = /^URL (\S+)$/m.exec(out);
        if (m) resolve(m[1]!);
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      child.on('exit', (code) => reject(new Error(`fixture exited with ${code}: ${err}`)));
    });
    await query(url, 'CREATE TABLE t (v text)');
    await query(url, `INSERT INTO t VALUES ('survived')`);

    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const stalePid = await postmasterPid(path.join(dir, 'pg'));
    expect(stalePid).toBeDefined();
    expect(isAlive(stalePid!)).toBe(true);
    expect(await query(url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]); // still serving

    const db = await start(dir, port);
    expect(db.created).toBe(false);
    expect(await postmasterPid(db.dataDir)).not.toBe(stalePid);
    expect(await query<{ v: string }>(db.url, 'SELECT v FROM t')).toEqual([{ v: 'survived' }]);
    await stop(db);
  }, TIMEOUT);

  it('rejects with the captured log when the port is already in use', async () => {
    const dir = await tempDir();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const err: unknown = await startEmbeddedPostgres({ dir, port }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(String(port));
      expect((err as Error).message).toMatch(/could not bind|Address already in use/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, TIMEOUT);
});
