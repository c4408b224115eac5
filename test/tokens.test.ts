import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogoutDocument, RenewTokenDocument, ViewerDocument } from './generated/graphql.js';
import { graphql, rest } from './support/clients.js';
import { ADMIN_PASSWORD, adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { sleep } from './support/wait.js';

const getLicense = (t: TestFerry, token?: string) => rest(t.url, '/MgntSetting', { Action: 'GetLicense' }, token);

/** A protected REST call and a protected GraphQL query must both refuse the token. */
async function expectRefused(t: TestFerry, token: string | undefined, message: RegExp) {
  const r = await getLicense(t, token);
  expect(r.status).toBe(401);
  expect(r.body).toEqual({ Code: false, Msg: expect.stringMatching(message), Data: null });
  const g = await graphql(t.url, ViewerDocument, {}, token);
  expect(g.data).toBeNull();
  expect(g.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect(g.errors?.[0].message).toMatch(message);
}

describe('access tokens', () => {
  let t: TestFerry;
  let token: string;
  beforeAll(async () => {
    t = await startTestFerry();
    token = await adminToken(t.url);
  });
  afterAll(() => t.close());

  it('are EdDSA JWTs with issuer, audience, expiry and id, accepted bare or as Bearer', async () => {
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: 'ferry', aud: 'ferry-api', sub: expect.any(String), jti: expect.any(String), exp: expect.any(Number) });
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg).toBe('EdDSA');
    expect((await getLicense(t, token)).status).toBe(404); // authenticated: there is just no license yet
    expect((await getLicense(t, `Bearer ${token}`)).status).toBe(404);
  });

  it('are required everywhere but /Login and health', async () => {
    await expectRefused(t, undefined, /missing; please log in/);
    expect((await rest(t.url, '/ReAuth', {})).status).toBe(401);
    expect((await rest(t.url, '/Logout', {})).status).toBe(401);
    expect((await rest(t.url, '/MgmtTask', { Action: 'ListTasks' })).status).toBe(401);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('refuse a tampered token', async () => {
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 3600 })).toString('base64url');
    await expectRefused(t, `${header}.${forged}.${signature}`, /not valid; please log in again/);
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    await expectRefused(t, `${header}.${payload}.${flipped}`, /not valid/);
    await expectRefused(t, 'not-a-token', /not valid/);
  });

  it('refuse other algorithms: HS256 with a guessed key, and alg none', async () => {
    const claims = decodeJwt(token);
    const hs = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('a-guessed-secret-of-enough-length!!'));
    await expectRefused(t, hs, /not valid/);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${token.split('.')[1]}.`;
    await expectRefused(t, none, /not valid/);
  });

  it('renew through /ReAuth and renewToken into working tokens of the same session', async () => {
    const renewed = await rest(t.url, '/ReAuth', {}, token);
    expect(renewed.text).toMatch(/^\{"Code":true,"Msg":"[^"]+","Data":\{"Token":"[^"]+","IsFirstLogin":false\}\}$/);
    const fresh = renewed.body.Data.Token;
    expect(fresh).not.toBe(token);
    expect(decodeJwt(fresh).sid).toBe(decodeJwt(token).sid);
    expect((await getLicense(t, fresh)).status).toBe(404);
    const gql = await graphql(t.url, RenewTokenDocument, {}, fresh);
    expect(gql.data?.renewToken.token).toEqual(expect.any(String));
  });

  it('stop working after logout, for every token of the session, even after a restart', async () => {
    const login = await rest(t.url, '/Login', { UserName: 'admin', Password: ADMIN_PASSWORD });
    const mine = login.body.Data.Token;
    const renewed = (await rest(t.url, '/ReAuth', {}, mine)).body.Data.Token;
    const other = (await rest(t.url, '/Login', { UserName: 'admin', Password: ADMIN_PASSWORD })).body.Data.Token;

    const out = await rest(t.url, '/Logout', {}, mine);
    expect(out.text).toBe('{"Code":true,"Msg":"Logout Success.","Data":null}');
    await expectRefused(t, mine, /session has ended/);
    await expectRefused(t, renewed, /session has ended/);
    expect((await getLicense(t, other)).status).toBe(404);

    await t.restart();
    await expectRefused(t, mine, /session has ended/);
    // the signing key survived the restart: the other session still works
    expect((await getLicense(t, other)).status).toBe(404);

    const gqlOut = await graphql(t.url, LogoutDocument, {}, other);
    expect(gqlOut.data?.logout.userErrors).toEqual([]);
    await expectRefused(t, other, /session has ended/);
  });
});

describe('a short token lifetime', () => {
  let t: TestFerry;
  beforeAll(async () => {
    t = await startTestFerry({ tokenTtlSeconds: 2 });
  });
  afterAll(() => t.close());

  it('refuses an expired token with a message asking to log in again', async () => {
    const token = await adminToken(t.url);
    expect((await getLicense(t, token)).status).toBe(404);
    await sleep(3_100);
    await expectRefused(t, token, /expired; please log in again/);
    expect((await rest(t.url, '/ReAuth', {}, token)).status).toBe(401);
  });
});
