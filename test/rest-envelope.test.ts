import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingRoutes } from '../src/rest/actions/pending.js';
import { restRoutes } from '../src/rest/routes.js';
import { rest } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);

describe('the REST shim', () => {
  let t: TestFerry;
  let token: string;
  beforeAll(async () => {
    t = await startTestFerry();
    token = await adminToken(t.url);
  });
  afterAll(() => t.close());

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(t.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: token, ...headers }, body });

  it('answers malformed JSON with 400 and a clear message', async () => {
    for (const body of ['{"Action": "GetLicense"', '{Action: GetLicense}', '']) {
      const res = await post('/MgntSetting', body);
      const text = await res.text();
      if (body === '') {
        // an empty body is an empty object: the Action is what is missing
        expect(res.status).toBe(400);
        expect(JSON.parse(text).Msg).toMatch(/^Action is required/);
        continue;
      }
      expect(res.status).toBe(400);
      expect(JSON.parse(text)).toEqual({ Code: false, Msg: expect.stringMatching(/^The request body is not valid JSON/), Data: null });
      noStack(text);
    }
    const array = await post('/MgntSetting', '[1,2]');
    expect(array.status).toBe(400);
    expect(((await array.json()) as { Msg: string }).Msg).toBe('The request body must be a JSON object.');
  });

  it('lists the valid actions when Action is unknown, missing or not a string', async () => {
    const unknown = await rest(t.url, '/MgntSetting', { Action: 'FormatDisk' }, token);
    expect(unknown.status).toBe(400);
    expect(unknown.body.Msg).toBe('Unknown Action "FormatDisk" for /MgntSetting; valid actions: ChangePassword, UpdateLicense, GetLicense, DeleteLicense.');
    const missing = await rest(t.url, '/MgmtCloudConnection', {}, token);
    expect(missing.body.Msg).toMatch(/^Action is required; valid actions for \/MgmtCloudConnection: ListCloudType, AddCloudConnection, /);
    const typed = await rest(t.url, '/MgntSetting', { Action: 42 }, token);
    expect(typed.status).toBe(400);
    expect(typed.body.Msg).toMatch(/^Action must be a string/);
    const proto = await rest(t.url, '/MgntSetting', { Action: 'constructor' }, token);
    expect(proto.status).toBe(400);
    expect(proto.body.Msg).toMatch(/^Unknown Action "constructor"/);
  });

  it('names a missing or mistyped field', async () => {
    const missing = await rest(t.url, '/Login', { Password: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ Code: false, Msg: 'UserName is required.', Data: null });
    const typed = await rest(t.url, '/Login', { UserName: 'admin', Password: 123456 });
    expect(typed.body.Msg).toBe('Password must be a string, not a number.');
    const empty = await rest(t.url, '/Login', { UserName: '', Password: 'x' });
    expect(empty.body.Msg).toBe('UserName must not be empty.');
    const long = await rest(t.url, '/Login', { UserName: 'a'.repeat(65), Password: 'x' });
    expect(long.body.Msg).toBe('UserName must be at most 64 characters.');
    const change = await rest(t.url, '/MgntSetting', { Action: 'ChangePassword', UserName: 'admin', Password: 'x', NewPassword: ['a'] }, token);
    expect(change.status).toBe(400);
    expect(change.body.Msg).toBe('NewPassword must be a string, not an array.');
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const big = JSON.stringify({ Action: 'GetLicense', Pad: 'x'.repeat(1024 * 1024) });
    const res = await post('/MgntSetting', big);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ Code: false, Msg: expect.stringContaining('1 MiB'), Data: null });
    const gql = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }', pad: 'x'.repeat(1024 * 1024) }) });
    expect(gql.status).toBe(413);
  });

  it('answers only POST on its URLs, and 404 elsewhere', async () => {
    const get = await fetch(`${t.url}/MgntSetting`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const nowhere = await rest(t.url, '/NoSuchThing', { Action: 'X' }, token);
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.Code).toBe(false);
  });

  it('serves every URL and Action of the spec, in its documented Code style (one not implemented would say so plainly)', async () => {
    const boolStyle = new Set(['AddCloudConnection', 'UpdateCloudConnection', 'VerifyCloudConnection', 'DeleteTask', 'CompleteTask', 'GetInstance', 'ListVolumeTypes', 'AddPackerHost', 'ListHosts', 'AddTransportServer']);
    const intStyle = new Set(['ListCloudType', 'ListQuota', 'ContinueTask', 'PrepareTaskWorkload', 'UpdateTask', 'AddVSPlatform', 'ListVSHosts', 'DeleteCloudConnection']);
    let count = 0;
    let pending = 0;
    for (const [url, actions] of Object.entries(pendingRoutes)) {
      for (const name of Object.keys(actions)) {
        const r = await rest(t.url, url, { Action: name }, token);
        const implemented = restRoutes[url][name] !== pendingRoutes[url][name];
        if (implemented) {
          // called without its fields: refused for that, or answered when it needs none
          expect(r.status, `${url} ${name}`).not.toBe(501);
        } else {
          expect(r.status, `${url} ${name}`).toBe(501);
          expect(r.body.Msg).toBe(`${name} is not implemented yet in this version of Ferry.`);
          pending++;
        }
        if (r.body?.Code !== undefined) expect(r.text.startsWith('{"Code":')).toBe(true);
        const failed = r.status >= 400;
        if (boolStyle.has(name)) expect(r.body.Code, name).toBe(!failed);
        if (intStyle.has(name)) expect(r.body.Code, name).toBe(failed ? -1 : 0);
        count++;
      }
    }
    // every action of the spec is implemented now: none answers 501 any more
    expect(pending).toBe(0);
    // 10 cloud + 6 transport + 13 host actions (twice: /portal and the alias) + 18 task actions
    expect(count).toBe(10 + 6 + 13 * 2 + 18);
    // unauthenticated callers are refused before anything else
    expect((await rest(t.url, '/MgmtTask', { Action: 'ListTasks' })).status).toBe(401);
  });

  it('keeps the process up and leaks no internals whatever the input', async () => {
    const odd = [
      '{"Action":"ChangePassword","UserName":{"$ne":1},"Password":null,"NewPassword":"a"}',
      '{"Action":"UpdateLicense","ActivationKey":"' + 'A'.repeat(9000) + '"}',
      '{"__proto__":{"Action":"GetLicense"}}',
      'null',
      '"just a string"',
      '{"Action":"GetLicense"}'.repeat(3),
    ];
    for (const body of odd) {
      const res = await post('/MgntSetting', body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      noStack(await res.text());
    }
    const badUtf = await fetch(`${t.url}/Login`, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=latin-9000' }, body: '{}' });
    expect(badUtf.status).toBe(415);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
