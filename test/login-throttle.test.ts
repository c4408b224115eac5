import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument } from './generated/graphql.js';
import { graphql, rest } from './support/clients.js';
import { INITIAL_ADMIN_PASSWORD, startTestFerry, type TestFerry } from './support/ferry.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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
    expect(gql.data?.login.userErrors[0]).toMatchObject({ code: 'THROTTLED', field: 'UserName' });
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
