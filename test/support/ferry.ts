import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { configFromEnv, type FerryConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { startFerry, type RunningFerry } from '../../src/server.js';
import { createTestDatabase } from './database.js';
import { rest } from './clients.js';

export const INITIAL_ADMIN_PASSWORD = 'Initial-pass1';
export const ADMIN_PASSWORD = 'Changed-pass2';

export interface TestFerry {
  readonly url: string;
  readonly ferry: RunningFerry;
  config: FerryConfig;
  /** stops and starts Ferry on the same database and data directory (optionally with new settings) */
  restart(changes?: Partial<FerryConfig>): Promise<void>;
  close(): Promise<void>;
}

/** A real Ferry on a free port, with its own database and data directory. */
export async function startTestFerry(changes: Partial<FerryConfig> = {}, logger?: Logger): Promise<TestFerry> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-'));
  let config: FerryConfig = {
    ...configFromEnv({}),
    port: 0,
    databaseUrl: db.url,
    dataDir,
    adminPassword: INITIAL_ADMIN_PASSWORD,
    logLevel: process.env.FERRY_TEST_LOG ?? 'silent',
    ...changes,
  };
  const log = logger ?? createLogger(config.logLevel);
  let ferry = await startFerry(config, log);
  return {
    get url() {
      return ferry.url;
    },
    get ferry() {
      return ferry;
    },
    get config() {
      return config;
    },
    set config(c) {
      config = c;
    },
    async restart(more = {}) {
      await ferry.close();
      config = { ...config, ...more };
      ferry = await startFerry(config, log);
    },
    async close() {
      await ferry.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Logs in as admin and, unless told otherwise, changes the initial password; returns the token. */
export async function adminToken(base: string, { changePassword = true } = {}): Promise<string> {
  const login = await rest(base, '/Login', { UserName: 'admin', Password: INITIAL_ADMIN_PASSWORD });
  if (login.body?.Code !== true) {
    const again = await rest(base, '/Login', { UserName: 'admin', Password: ADMIN_PASSWORD });
    if (again.body?.Code !== true) throw new Error(`admin login failed: ${login.text}`);
    return again.body.Data.Token;
  }
  const token: string = login.body.Data.Token;
  if (changePassword && login.body.Data.IsFirstLogin) {
    const changed = await rest(base, '/MgntSetting', { Action: 'ChangePassword', UserName: 'admin', Password: INITIAL_ADMIN_PASSWORD, NewPassword: ADMIN_PASSWORD }, token);
    if (changed.body?.Code !== true) throw new Error(`password change failed: ${changed.text}`);
  }
  return token;
}
