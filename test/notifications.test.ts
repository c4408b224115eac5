import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationHub } from '../src/db/notifications.js';
import { createTestDatabase } from './support/database.js';
import { sleep, until } from './support/wait.js';

describe('the notification hub (LISTEN/NOTIFY)', () => {
  let db: { url: string; drop(): Promise<void> };
  let admin: pg.Client;
  let hub: NotificationHub;
  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    hub = new NotificationHub(db.url, pino({ level: 'silent' }));
    await hub.start();
  });
  afterAll(async () => {
    await hub.close();
    await admin.end();
    await db.drop();
  });

  it('hears notifications of other connections, and reconnects when its connection is killed', async () => {
    const heard: string[] = [];
    const off = hub.on('ferry_test', (payload) => heard.push(payload));
    await sleep(100); // LISTEN is sent asynchronously for a channel added after start
    await admin.query(`select pg_notify('ferry_test', 'one')`);
    await until(() => heard.includes('one'));

    const { rowCount } = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'ferry-listen' and datname = current_database()`);
    expect(rowCount).toBe(1);
    // after reconnecting, listeners are woken with '' so they re-read what they may have missed
    await until(() => heard.includes(''));
    await admin.query(`select pg_notify('ferry_test', 'two')`);
    await until(() => heard.includes('two'));

    off();
    await admin.query(`select pg_notify('ferry_test', 'three')`);
    await sleep(300);
    expect(heard).not.toContain('three');
  });
});
