import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument } from './generated/graphql.js';
import { graphql, rest } from './support/clients.js';
import { INITIAL_ADMIN_PASSWORD, startTestFerry, type TestFerry } from './support/ferry.js';
import { sleep } from './support/wait.js';

const policy = { freeFailures: 2, baseDelayMs: 400, lockAfterFailures: 4, lockMs: 1_500 };

describe('repeated failed logins', () => {
  let t: TestFerry;
  beforeAll(async () => {
    t = await startTestFerry({ loginThrottle: policy });
  });
  afterAll(() => t.close());

  const login = (password: string, userName = 'admin') => rest(t.url, '/Login', { UserName: userName, Password: password });

  it('are slowed down, then refused for a while, and a correct password works once the window passes', async () => {
    // the free failures answer at once with the plain refusal
    for (let i = 0; i < policy.freeFailures; i++) expect((await login('wrong-1')).status).toBe(401);
    expect((await login('wrong-1')).status).toBe(401); // third failure: now a wait is imposed

    const slowed = await login(INITIAL_ADMIN_PASSWORD);
    expect(slowed.status).toBe(429);
    expect(slowed.body.Code).toBe(false);
    expect(slowed.body.Msg).toMatch(/^Too many failed logins for "admin"; try again in \d+ s\.$/);
    expect(Number(slowed.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    await sleep(policy.baseDelayMs + 100);
    expect((await login('wrong-2')).status).toBe(401); // fourth failure: locked
    const locked = await login(INITIAL_ADMIN_PASSWORD);
    expect(locked.status).toBe(429);

    const gql = await graphql(t.url, LoginDocument, { input: { userName: 'admin', password: INITIAL_ADMIN_PASSWORD } });
    expect(gql.data?.login.token).toBeNull();
    expect(gql.data?.login.userErrors[0]).toMatchObject({ code: 'THROTTLED', field: 'userName' });
    expect(gql.data?.login.userErrors[0].retryAfterSeconds).toBeGreaterThanOrEqual(1);

    await sleep(policy.lockMs + 200);
    const ok = await login(INITIAL_ADMIN_PASSWORD);
    expect(ok.status).toBe(200);
    expect(ok.body.Code).toBe(true);

    // success reset the count: failures are free again
    for (let i = 0; i < policy.freeFailures; i++) expect((await login('wrong-3')).status).toBe(401);
    expect((await login(INITIAL_ADMIN_PASSWORD)).status).toBe(200);
  });

  it('treat unknown user names alike, so they cannot be told from real ones', async () => {
    for (let i = 0; i <= policy.freeFailures; i++) {
      const r = await login('whatever1', 'nobody');
      expect(r.status).toBe(401);
      expect(r.body.Msg).toBe('Wrong user name or password.');
    }
    expect((await login('whatever1', 'nobody')).status).toBe(429);
    // another name is not affected
    expect((await login(INITIAL_ADMIN_PASSWORD)).status).toBe(200);
  });

  it('serialise parallel guesses so a burst cannot slip past the limit', async () => {
    const burst = await Promise.all(Array.from({ length: 8 }, () => login('wrong-burst', 'burst-user')));
    const refusedAsWrong = burst.filter((r) => r.status === 401).length;
    expect(refusedAsWrong).toBe(policy.freeFailures + 1);
    expect(burst.filter((r) => r.status === 429).length).toBe(8 - refusedAsWrong);
  });
});

describe('housekeeping', () => {
  it('forgets expired sessions and quiet failed-login counts, and nothing still in force', async () => {
    const t = await startTestFerry();
    try {
      const sql = (q: string) => t.ferry.db.orm.em.getConnection().execute(q);
      await rest(t.url, '/Login', { UserName: 'admin', Password: INITIAL_ADMIN_PASSWORD });
      await sql(`insert into sessions (id, user_id, expires_at) select gen_random_uuid(), id, now() - interval '1 minute' from users`);
      await sql(`insert into login_attempts (user_name, failures, last_failure_at) values ('old-guess', 2, now() - interval '2 days')`);
      await sql(`insert into login_attempts (user_name, failures, last_failure_at, blocked_until) values ('locked', 10, now() - interval '2 days', now() + interval '1 hour')`);
      await sql(`insert into login_attempts (user_name, failures, last_failure_at) values ('recent', 1, now())`);
      // admin's row holds no failure since the successful login: it goes with the quiet one
      expect(await t.ferry.services.auth.sweep()).toEqual({ sessions: 1, attempts: 2 });
      const names = (await sql('select user_name from login_attempts order by 1')).map((r) => r.user_name);
      expect(names).toEqual(['locked', 'recent']);
      expect((await sql('select count(*)::int as n from sessions'))[0].n).toBe(1);
    } finally {
      await t.close();
    }
  });
});
