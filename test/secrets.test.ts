import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sealer } from '../src/services/secrets/master-key.js';
import { startFerry } from '../src/server.js';
import { ChangePasswordDocument, LoginDocument } from './generated/graphql.js';
import { graphql, rest } from './support/clients.js';
import { INITIAL_ADMIN_PASSWORD, startTestFerry, type TestFerry } from './support/ferry.js';

describe('the master key that seals stored credentials', () => {
  let t: TestFerry;
  beforeAll(async () => {
    t = await startTestFerry();
  });
  afterAll(() => t.close());

  it('is made at first start in the data directory, readable by its owner only', async () => {
    const file = path.join(t.config.dataDir, 'master.key');
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')).toHaveLength(32);
    expect((await stat(file)).mode & 0o077).toBe(0);
  });

  it('refuses to start Ferry on a database set up with another key', async () => {
    await t.ferry.close();
    const wrongKey = randomBytes(32).toString('base64');
    await expect(startFerry({ ...t.config, masterKey: wrongKey })).rejects.toThrow(/master key does not match/);
    await t.restart(); // the right key still works
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
  });

  it('seals with AES-256-GCM: round trip, fresh IV each time, tampering and another context detected', () => {
    const sealer = new Sealer(randomBytes(32));
    const a = sealer.seal('s3cret-cloud-pass', 'cloud:1');
    const b = sealer.seal('s3cret-cloud-pass', 'cloud:1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(sealer.open(a, 'cloud:1')).toBe('s3cret-cloud-pass');
    expect(() => sealer.open(a, 'cloud:2')).toThrow();
    const parts = a.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => sealer.open(parts.join('.'), 'cloud:1')).toThrow();
    expect(() => new Sealer(randomBytes(32)).open(a, 'cloud:1')).toThrow();
  });
});

describe('passwords and tokens', () => {
  it('are stored as argon2id hashes and never written to the log, even at debug level', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
    const t = await startTestFerry({}, pino({ level: 'trace' }, sink));
    try {
      const login = await rest(t.url, '/Login', { UserName: 'admin', Password: INITIAL_ADMIN_PASSWORD });
      const token = login.body.Data.Token as string;
      await graphql(t.url, ChangePasswordDocument, { input: { userName: 'admin', password: INITIAL_ADMIN_PASSWORD, newPassword: 'Logged-never9' } }, token);
      await graphql(t.url, LoginDocument, { input: { userName: 'admin', password: 'Logged-never9' } });
      await rest(t.url, '/Login', { UserName: 'admin', Password: 'wrong-guess-1' });
      const log = lines.join('');
      expect(log).toContain('login'); // the log did capture the activity
      for (const secret of [INITIAL_ADMIN_PASSWORD, 'Logged-never9', 'wrong-guess-1', token, token.split('.')[2]]) {
        expect(log).not.toContain(secret);
      }
      const [row] = await t.ferry.db.orm.em.getConnection().execute(`select password_hash from users where user_name = 'admin'`);
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    } finally {
      await t.close();
    }
  });
});
