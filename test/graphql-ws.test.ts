import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { print } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { generateLicenseKeyPair, issueActivationKey } from '../src/services/license/activation-key.js';
import { LicenseChangedDocument, type LicenseChangedSubscription } from './generated/graphql.js';
import { rest, wsHandshake } from './support/clients.js';
import { ADMIN_PASSWORD, adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { sleep, within } from './support/wait.js';

// Everything opened here is closed in the afterAll at the bottom, clients before servers.
const ferries: TestFerry[] = [];
const sockets = new Set<WebSocket>();
const clients: Client[] = [];

afterAll(async () => {
  for (const c of clients) await c.dispose();
  for (const s of sockets) s.terminate();
  for (const f of ferries) await f.close();
});

async function ferry(changes: Parameters<typeof startTestFerry>[0] = {}): Promise<TestFerry> {
  const f = await startTestFerry(changes);
  ferries.push(f);
  return f;
}

/** A raw graphql-transport-ws handshake (support/clients.ts) whose socket is closed in afterAll. */
async function handshake(base: string, connectionParams?: Record<string, unknown>) {
  const result = await within(wsHandshake(base, connectionParams), 10_000, 'connection_ack or close');
  sockets.add(result.socket);
  return result;
}

/** The socket is open and the server still answers on it (graphql-transport-ws ping → pong). */
function answersPing(socket: WebSocket): Promise<boolean> {
  if (socket.readyState !== WebSocket.OPEN) return Promise.resolve(false);
  return within(
    new Promise<boolean>((resolve) => {
      const onMessage = (data: WebSocket.RawData) => {
        if (JSON.parse(data.toString()).type !== 'pong') return;
        socket.off('message', onMessage);
        resolve(true);
      };
      socket.on('message', onMessage);
      socket.once('close', () => resolve(false));
      socket.send(JSON.stringify({ type: 'ping' }));
    }),
    5_000,
    'pong',
  );
}

/** A fresh session of the admin (the password was already changed). */
async function login(base: string): Promise<string> {
  const reply = await rest(base, '/Login', { UserName: 'admin', Password: ADMIN_PASSWORD });
  expect(reply.body?.Code, reply.text).toBe(true);
  return reply.body.Data.Token;
}

interface CloseInfo {
  code: number;
  reason: string;
}

/** The real graphql-ws client, connecting at once, never retrying; records its connections and closes. */
function wsClient(base: string, connectionParams: Record<string, unknown>) {
  const closes: CloseInfo[] = [];
  let connects = 0;
  let onConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const client = createClient({
    url: `${base.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {},
    on: {
      connected: () => {
        connects += 1;
        onConnected();
      },
      closed: (event) => {
        const e = event as CloseInfo;
        closes.push({ code: e.code, reason: String(e.reason) });
      },
    },
  });
  clients.push(client);
  return {
    client,
    /** resolves on the first connection_ack (a test that expects a refusal never calls it) */
    connected: () => within(connected, 10_000, 'graphql-ws connected'),
    closes,
    get connects() {
      return connects;
    },
  };
}

/** Runs one operation with the graphql-ws client and collects what arrives. */
function operation<T>(client: Client, query: string) {
  const values: FormattedExecutionResult<T, unknown>[] = [];
  let fail: (err: unknown) => void = () => {};
  let finish: () => void = () => {};
  const errored = new Promise<unknown>((resolve) => (fail = resolve));
  const completed = new Promise<void>((resolve) => (finish = resolve));
  const stop = client.subscribe<T>({ query }, { next: (v) => values.push(v), error: (e) => fail(e), complete: () => finish() });
  return { values, errored, completed, stop };
}

/** The GraphQL error messages the server sent for a refused operation (fails if it was anything else). */
async function refusal(client: Client, query: string): Promise<string[]> {
  const op = operation(client, query);
  const err = await within(op.errored, 10_000, 'operation refused');
  const close = err as Partial<CloseInfo>;
  expect(err, `expected GraphQL errors, got a close ${close.code} "${close.reason}"`).toBeInstanceOf(Array);
  return (err as { message: string }[]).map((e) => e.message);
}

const nestedInlineFragments = (n: number) => `${'... on License { '.repeat(n)}id${' }'.repeat(n)}`;

describe('graphql-ws on /graphql: who may connect', () => {
  let t: TestFerry;
  let token: string;
  beforeAll(async () => {
    t = await ferry();
    token = await adminToken(t.url);
  });

  it('closes with 4401 when connection_init carries no token, and says to log in', async () => {
    for (const params of [undefined, {}, { Authorization: '' }, { Authorization: 42 }]) {
      const h = await handshake(t.url, params);
      expect(h.acked, JSON.stringify(params)).toBe(false);
      const closed = await h.closed;
      expect(closed.code, JSON.stringify(params)).toBe(4401);
      expect(closed.reason).toMatch(/token/i);
      expect(closed.reason).toMatch(/log in/);
    }

    // the real client sees the same close code, and does not retry it
    const c = wsClient(t.url, {});
    await expect.poll(() => c.closes, { timeout: 10_000 }).toHaveLength(1);
    expect(c.closes[0]).toEqual({ code: 4401, reason: 'Authorization token is missing; please log in.' });
    expect(c.connects).toBe(0);
  });

  it('closes with 4401 for a garbage token and for a real token whose signature was tampered with', async () => {
    const [header, payload, signature] = token.split('.');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    const tampered = [header, payload, flipped].join('.');
    expect(tampered).not.toBe(token);

    for (const bad of ['garbage', 'Bearer garbage', 'a.b.c', tampered, `Bearer ${tampered}`]) {
      const h = await handshake(t.url, { Authorization: bad });
      expect(h.acked, bad).toBe(false);
      expect(await h.closed, bad).toEqual({ code: 4401, reason: 'The token is not valid; please log in again.' });
    }
    // the untampered token still works, so the refusal above was the signature's doing
    expect((await handshake(t.url, { Authorization: token })).acked).toBe(true);
  });

  it('acknowledges a valid token, bare or as "Bearer <token>", and runs operations as that user', async () => {
    for (const params of [{ Authorization: token }, { Authorization: `Bearer ${token}` }, { authorization: token }]) {
      const h = await handshake(t.url, params);
      expect(h.acked, JSON.stringify(params).slice(0, 30)).toBe(true);
      expect(await answersPing(h.socket)).toBe(true);
      h.socket.close(1000);
      expect((await h.closed).code).toBe(1000);
    }

    const c = wsClient(t.url, { Authorization: `Bearer ${token}` });
    await c.connected();
    const viewer = operation<{ viewer: { userName: string; isFirstLogin: boolean } }>(c.client, '{ viewer { userName isFirstLogin } }');
    await within(viewer.completed, 10_000, 'viewer query');
    expect(viewer.values).toEqual([{ data: { viewer: { userName: 'admin', isFirstLogin: false } } }]);
    expect(c.closes).toEqual([]);
  });
});

describe('graphql-ws: an admin who has not changed the initial password', () => {
  it('is refused with 4403', async () => {
    const t = await ferry();
    const firstLoginToken = await adminToken(t.url, { changePassword: false });
    const h = await handshake(t.url, { Authorization: firstLoginToken });
    expect(h.acked).toBe(false);
    expect(await h.closed).toEqual({ code: 4403, reason: 'Change the initial password first.' });

    // the graphql-ws client sees 4403 as well
    const c = wsClient(t.url, { Authorization: firstLoginToken });
    await expect.poll(() => c.closes, { timeout: 10_000 }).toHaveLength(1);
    expect(c.closes[0].code).toBe(4403);
    expect(c.connects).toBe(0);
  });
});

describe('graphql-ws: sockets end with their token', () => {
  let short: TestFerry;
  beforeAll(async () => {
    short = await ferry({ tokenTtlSeconds: 2 });
    // the 2 s token of the first login may expire before the password change goes through
    for (let attempt = 1; ; attempt++) {
      try {
        await adminToken(short.url);
        break;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  });

  it('closes an open socket with 4401 when its token expires', async () => {
    let h: Awaited<ReturnType<typeof handshake>> | undefined;
    // a 2 s token has 1–2 s left when issued; log in again if it ran out before the handshake
    for (let attempt = 1; attempt <= 3 && !h?.acked; attempt++) h = await handshake(short.url, { Authorization: await login(short.url) });
    expect(h?.acked).toBe(true);
    expect(await answersPing(h!.socket)).toBe(true);

    const closed = await within(h!.closed, 4_000, 'close on token expiry');
    expect(closed.code).toBe(4401);
    expect(closed.reason).toContain('expired');
  });

  it('refuses a token that has already expired with 4401', async () => {
    const token = await login(short.url);
    await sleep(2_500);
    const h = await handshake(short.url, { Authorization: token });
    expect(h.acked).toBe(false);
    expect(await h.closed).toEqual({ code: 4401, reason: 'The token has expired; please log in again.' });
  });
});

describe('graphql-ws: logout and subscriptions', () => {
  let t: TestFerry;
  let privatePem: string;
  beforeAll(async () => {
    const keys = await generateLicenseKeyPair();
    privatePem = keys.privatePem;
    t = await ferry({ licensePublicKey: keys.publicPem });
    await adminToken(t.url);
  });

  const yearFromNow = () => new Date((Math.floor(Date.now() / 1000) + 365 * 86_400) * 1000);

  async function activate(token: string, key: string) {
    const reply = await rest(t.url, '/MgntSetting', { Action: 'UpdateLicense', ActivationKey: key }, token);
    expect(reply.body?.Code, reply.text).toBe(true);
    return reply.body.Data as { Id: string; Credits: number; Used: number };
  }

  /**
   * Starts `licenseChanged` and activates `key` until the first event arrives: graphql-ws does not
   * acknowledge a subscribe message, so an activation sent too early could be missed.
   */
  async function liveLicenseSubscription(client: Client, token: string, key: string) {
    const sub = operation<LicenseChangedSubscription>(client, print(LicenseChangedDocument));
    for (let attempt = 0; sub.values.length === 0; attempt++) {
      if (attempt === 20) throw new Error('licenseChanged delivered nothing after 20 activations');
      await activate(token, key);
      await expect.poll(() => sub.values.length, { timeout: 500, interval: 25 }).toBeGreaterThan(0).catch(() => {});
    }
    return sub;
  }

  it('closes the sockets of a logged-out session with 4401 and leaves other sessions connected', async () => {
    const tokenA = await login(t.url);
    const tokenB = await login(t.url);
    const a1 = await handshake(t.url, { Authorization: tokenA });
    const a2 = await handshake(t.url, { Authorization: `Bearer ${tokenA}` });
    const b = await handshake(t.url, { Authorization: tokenB });
    expect([a1.acked, a2.acked, b.acked]).toEqual([true, true, true]);

    const logout = await rest(t.url, '/Logout', {}, tokenA);
    expect(logout.body?.Code, logout.text).toBe(true);

    for (const a of [a1, a2]) {
      const closed = await within(a.closed, 5_000, 'close on logout');
      expect(closed.code).toBe(4401);
      expect(closed.reason).toContain('logged out');
    }
    expect(await answersPing(b.socket)).toBe(true);

    const again = await handshake(t.url, { Authorization: tokenA });
    expect(again.acked).toBe(false);
    expect(await again.closed).toEqual({ code: 4401, reason: 'The session has ended (logged out); please log in again.' });
    expect(await answersPing(b.socket)).toBe(true);
  });

  it('delivers licenseChanged after REST UpdateLicense, and null after REST DeleteLicense', async () => {
    const token = await login(t.url);
    const c = wsClient(t.url, { Authorization: token });
    await c.connected();

    const first = { id: randomUUID(), credits: 120, expiresAt: yearFromNow() };
    const sub = await liveLicenseSubscription(c.client, token, await issueActivationKey(privatePem, first.credits, first.expiresAt, first.id));
    expect(sub.values[0]).toEqual({
      data: {
        licenseChanged: {
          id: expect.any(String),
          licenseId: first.id,
          credits: 120,
          used: 0,
          remaining: 120,
          expiresAt: first.expiresAt.toISOString(),
          expired: false,
        },
      },
    });

    const second = { id: randomUUID(), credits: 7, expiresAt: new Date(first.expiresAt.getTime() + 86_400_000) };
    const data = await activate(token, await issueActivationKey(privatePem, second.credits, second.expiresAt, second.id));
    expect(data).toMatchObject({ Id: second.id, Credits: 7, Used: 0 });
    await expect
      .poll(() => sub.values.at(-1), { timeout: 5_000 })
      .toEqual({
        data: {
          licenseChanged: {
            id: expect.any(String),
            licenseId: second.id,
            credits: 7,
            used: 0,
            remaining: 7,
            expiresAt: second.expiresAt.toISOString(),
            expired: false,
          },
        },
      });

    const deleted = await rest(t.url, '/MgntSetting', { Action: 'DeleteLicense' }, token);
    expect(deleted.body?.Code, deleted.text).toBe(true);
    await expect.poll(() => sub.values.at(-1), { timeout: 5_000 }).toEqual({ data: { licenseChanged: null } });

    // nothing went wrong on the way: no errors, the subscription is still running, one connection
    expect(sub.values.every((v) => v.errors === undefined)).toBe(true);
    const ended = await Promise.race([sub.errored.then(() => 'errored'), sub.completed.then(() => 'completed'), sleep(100).then(() => 'running')]);
    expect(ended).toBe('running');
    expect(c.connects).toBe(1);
    expect(c.closes).toEqual([]);
    sub.stop();
  });

  it('refuses subscriptions over the depth or alias limits and invalid documents with errors, and keeps the socket usable', async () => {
    const token = await login(t.url);
    const c = wsClient(t.url, { Authorization: token });
    await c.connected();

    const aliases = Array.from({ length: 21 }, (_, i) => `a${i}: id`).join(' ');
    expect(await refusal(c.client, `subscription { licenseChanged { ${aliases} } }`)).toContainEqual(expect.stringContaining('Aliases limit of 20 exceeded, found 21'));

    expect(await refusal(c.client, `subscription { licenseChanged { ${nestedInlineFragments(19)} } }`)).toContainEqual(
      expect.stringContaining('depth limit of 20 exceeded, found 21'),
    );

    expect(await refusal(c.client, 'subscription { licenseChanged { nope } }')).toEqual(['Cannot query field "nope" on type "License".']);
    expect(await refusal(c.client, 'subscription { licenseChanged { id } other: licenseChanged { id } }')).toContainEqual(
      expect.stringContaining('must select only one top level field'),
    );

    // the same connection still serves a valid subscription
    const key = await issueActivationKey(privatePem, 3, yearFromNow());
    const sub = await liveLicenseSubscription(c.client, token, key);
    expect(sub.values[0].data?.licenseChanged?.credits).toBe(3);
    expect(c.connects).toBe(1);
    expect(c.closes).toEqual([]);
    sub.stop();
  });

  // graphql-ws's own parse would throw inside its message handler and close the whole socket (4500)
  it('refuses a document that does not parse with an error for that operation only', async () => {
    const token = await login(t.url);
    const c = wsClient(t.url, { Authorization: token });
    await c.connected();

    const messages = await refusal(c.client, 'subscription { licenseChanged { id ');
    expect(messages).toEqual([expect.stringContaining('Syntax Error')]);
    const huge = await refusal(c.client, `{ ${Array.from({ length: 6000 }, () => '__typename').join(' ')} }`);
    expect(huge).toEqual([expect.stringMatching(/more that 5000 tokens/)]);

    const viewer = operation<{ viewer: { userName: string } }>(c.client, '{ viewer { userName } }');
    await within(viewer.completed, 10_000, 'viewer query');
    expect(viewer.values).toEqual([{ data: { viewer: { userName: 'admin' } } }]);
    expect(c.connects).toBe(1);
    expect(c.closes).toEqual([]);
  });
});

describe('graphql-ws: Ferry shutting down', () => {
  it('closes open sockets with 1001 and does not wait on them to finish stopping', async () => {
    const t = await startTestFerry();
    const token = await adminToken(t.url);
    const { acked, closed } = await handshake(t.url, { Authorization: token });
    expect(acked).toBe(true);
    // Apollo's HTTP drain would otherwise wait out its grace period for the upgraded socket
    await within(t.close(), 5_000, 'Ferry close with an open socket');
    expect(await within(closed, 1_000, 'socket close')).toEqual({ code: 1001, reason: 'Ferry is shutting down' });
  });
});
