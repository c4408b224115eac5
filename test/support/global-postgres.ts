import { mkdtemp, rm, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { freePort } from './ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** a PostgreSQL URL whose role may create databases; each test file makes its own */
    postgresAdminUrl: string;
  }
}

/** DATABASE_URL when set (this machine's PostgreSQL); otherwise one embedded server for the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide('postgresAdminUrl', process.env.DATABASE_URL);
    return async () => {};
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-pg-'));
  await chmod(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dir, port: await freePort() });
  project.provide('postgresAdminUrl', pg.url);
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
