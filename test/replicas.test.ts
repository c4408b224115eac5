import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { migrationsList } from '../src/db/migrations/index.js';
import { startFerry, type RunningFerry } from '../src/server.js';
import { createLogger } from '../src/logger.js';
import { generateLicenseKeyPair, issueActivationKey } from '../src/services/license/activation-key.js';
import { LicenseChangedDocument, type LicenseChangedSubscription } from './generated/graphql.js';
import { rest, wsHandshake } from './support/clients.js';
import { createTestDatabase } from './support/database.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { sleep } from './support/wait.js';

describe('several Ferry processes on one database', () => {
  let a: TestFerry;
  let b: RunningFerry;
  let vendor: { privatePem: string; publicPem: string };

  beforeAll(async () => {
    vendor = await generateLicenseKeyPair();
    a = await startTestFerry({ licensePublicKey: vendor.publicPem });
    // a second replica: same database and master key, its own port and connections
    b = await startFerry({ ...a.config, port: 0 }, createLogger('silent'));
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('start together against a fresh database without racing on migrations, keys or the admin account', async () => {
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-replicas-'));
    const config = { ...a.config, databaseUrl: db.url, dataDir, port: 0, adminPassword: undefined };
    try {
      const [r1, r2] = await Promise.all([startFerry(config, createLogger('silent')), startFerry(config, createLogger('silent'))]);
      try {
        const sql = (q: string) => r1.db.orm.em.getConnection().execute(q);
        expect((await sql(`select count(*)::int as n from users`))[0].n).toBe(1);
        expect((await sql(`select count(*)::int as n from server_keys`))[0].n).toBe(2); // signing key, master key check
        expect((await sql(`select count(*)::int as n from mikro_orm_migrations`))[0].n).toBe(migrationsList.length);
        // exactly one of them made (and printed) the admin password; both accept it
        const generated = [r1.generatedAdminPassword, r2.generatedAdminPassword].filter((p): p is string => p !== undefined);
        expect(generated).toHaveLength(1);
        for (const replica of [r1, r2]) {
          expect((await rest(replica.url, '/Login', { UserName: 'admin', Password: generated[0] })).body.Code).toBe(true);
        }
      } finally {
        await Promise.all([r1.close(), r2.close()]);
      }
    } finally {
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('accept each other’s tokens, and a logout on one ends the session on both, sockets included', async () => {
    const token = await adminToken(a.url);
    expect((await rest(b.url, '/MgntSetting', { Action: 'GetLicense' }, token)).status).toBe(404);
    const onB = await wsHandshake(b.url, { Authorization: token });
    expect(onB.acked).toBe(true);

    expect((await rest(a.url, '/Logout', {}, token)).body.Code).toBe(true);
    expect(await onB.closed).toEqual({ code: 4401, reason: expect.stringContaining('logged out') });
    expect((await rest(b.url, '/MgntSetting', { Action: 'GetLicense' }, token)).status).toBe(401);
  });

  it('deliver a license change made on one replica to subscribers of the other', async () => {
    const token = await adminToken(a.url);
    const client = createClient({ url: b.url.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams: { Authorization: token }, retryAttempts: 0 });
    const received: LicenseChangedSubscription[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<LicenseChangedSubscription>({ query: print(LicenseChangedDocument) }, {
        next: (msg) => void (msg.data && received.push(msg.data)),
        error: reject,
        complete: resolve,
      });
    });
    const key = await issueActivationKey(vendor.privatePem, 12, new Date(Date.now() + 86_400_000));
    // the protocol does not confirm a subscription has started: activate until the first event arrives
    for (let i = 0; i < 50 && received.length === 0; i++) {
      expect((await rest(a.url, '/MgntSetting', { Action: 'UpdateLicense', ActivationKey: key }, token)).body.Code).toBe(true);
      await sleep(100);
    }
    expect(received[0].licenseChanged).toMatchObject({ credits: 12, used: 0 });
    await client.dispose();
    await done.catch(() => undefined);
  });
});
