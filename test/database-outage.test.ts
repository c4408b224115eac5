import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';

describe('when PostgreSQL drops Ferry’s connections', () => {
  let t: TestFerry;
  beforeAll(async () => {
    t = await startTestFerry();
  });
  afterAll(() => t.close());

  it('keeps serving: pooled and listening connections come back, nothing crashes', async () => {
    const token = await adminToken(t.url);
    const admin = new pg.Client({ connectionString: t.config.databaseUrl });
    await admin.connect();
    try {
      const killed = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
      expect(killed.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // a request may land on a dead pooled connection once; it must fail cleanly, and the next must work
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await rest(t.url, '/MgntSetting', { Action: 'GetLicense' }, token));
    for (const r of replies) {
      expect([404, 500]).toContain(r.status);
      expect(r.text).not.toMatch(/\n\s+at /);
    }
    expect(replies.at(-1)!.status).toBe(404);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    expect((await rest(t.url, '/ReAuth', {}, token)).body.Code).toBe(true);
  });
});
