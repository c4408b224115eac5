import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager } from '@mikro-orm/postgresql';
import { maskUnexpectedErrors } from '../src/graphql/format-error.js';
import { generateLicenseKeyPair, issueActivationKey } from '../src/services/license/activation-key.js';
import { settleCredit, takeCredit } from '../src/services/license/ledger.js';
import { LicenseActivateDocument, LicenseLedgerDocument, NodeByIdDocument, ViewerDocument } from './generated/graphql.js';
import { graphql } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';

describe('GraphQL over HTTP', () => {
  let t: TestFerry;
  let token: string;
  let vendor: { privatePem: string; publicPem: string };
  const raw = async (query: string, auth = token) => {
    const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: auth }, body: JSON.stringify({ query }) });
    return { status: res.status, body: (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
  };

  beforeAll(async () => {
    vendor = await generateLicenseKeyPair();
    t = await startTestFerry({ licensePublicKey: vendor.publicPem });
    token = await adminToken(t.url);
  });
  afterAll(() => t.close());

  it('gives every object a global id that node(id) resolves, and null for ids it does not know', async () => {
    const viewer = await graphql(t.url, ViewerDocument, {}, token);
    const id = viewer.data!.viewer.id;
    expect(id).not.toMatch(/-/); // opaque, not the plain uuid
    expect((await graphql(t.url, NodeByIdDocument, { id }, token)).data?.node).toMatchObject({ __typename: 'User', userName: 'admin' });
    for (const junk of ['', 'abc', Buffer.from('User:').toString('base64url'), Buffer.from(`Nope:${randomUUID()}`).toString('base64url')]) {
      const r = await graphql(t.url, NodeByIdDocument, { id: junk }, token);
      expect(r.errors).toBeUndefined();
      expect(r.data?.node).toBeNull();
    }
  });

  it('pages the license ledger as a Relay connection, at most 100 at a time', async () => {
    await graphql(t.url, LicenseActivateDocument, { input: { activationKey: await issueActivationKey(vendor.privatePem, 10, new Date(Date.now() + 86_400_000)) } }, token);
    const em = () => t.ferry.db.orm.em.fork() as EntityManager;
    const tasks = Array.from({ length: 5 }, () => randomUUID());
    for (const task of tasks) await em().transactional((tx) => takeCredit(tx as EntityManager, task));
    await em().transactional((tx) => settleCredit(tx as EntityManager, tasks[0], false));

    const first = await graphql(t.url, LicenseLedgerDocument, { first: 4 }, token);
    const ledger = first.data!.license!.ledger;
    expect(ledger.totalCount).toBe(6);
    expect(ledger.edges.map((e) => e.node.kind)).toEqual(['TAKEN', 'TAKEN', 'TAKEN', 'TAKEN']);
    expect(ledger.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const rest = await graphql(t.url, LicenseLedgerDocument, { first: 4, after: ledger.pageInfo.endCursor }, token);
    const tail = rest.data!.license!.ledger;
    expect(tail.edges.map((e) => e.node.kind)).toEqual(['TAKEN', 'RETURNED']);
    expect(tail.edges[1].node.taskId).toBe(tasks[0]);
    expect(tail.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const seen = [...ledger.edges, ...tail.edges].map((e) => e.cursor);
    expect(new Set(seen).size).toBe(6);

    const tooMany = await graphql(t.url, LicenseLedgerDocument, { first: 101 }, token);
    expect(tooMany.errors?.[0]).toMatchObject({ message: 'first must be between 0 and 100.', extensions: { code: 'BAD_USER_INPUT' } });
    const foreign = await graphql(t.url, LicenseLedgerDocument, { first: 2, after: 'bm90LWEtY3Vyc29y' }, token);
    expect(foreign.errors?.[0].message).toBe('after is not a cursor returned by this list.');
  });

  it('refuses queries past the depth, alias and token limits, before running them', async () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: viewer { userName }`).join(' ');
    const many = await raw(`{ ${aliases} }`);
    expect(many.body.errors?.[0].message).toMatch(/alias/i);
    expect(many.body.data).toBeUndefined();
    const deep = `{ __type(name: "Query") { ${'ofType { '.repeat(25)}name${' }'.repeat(25)} } }`;
    const tooDeep = await raw(deep);
    expect(tooDeep.body.errors?.[0].message).toMatch(/depth|cost/i);
    expect(tooDeep.body.data).toBeUndefined();
    const fine = await raw(`{ __type(name: "Query") { ${'ofType { '.repeat(5)}name${' }'.repeat(5)} } }`);
    expect(fine.body.errors).toBeUndefined();
    const huge = `{ ${Array.from({ length: 6000 }, () => '__typename').join(' ')} }`;
    const tooLong = await raw(huge);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/more that 5000 tokens/), extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    const broken = await raw('{ viewer { userName ');
    expect(broken.status).toBe(400);
    expect(broken.body.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('marks every GraphQL answer as not to be stored by caches', async () => {
    for (const body of [{ query: '{ viewer { name } }' }, { query: '{ nope }' }]) {
      const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: token }, body: JSON.stringify(body) });
      expect(res.headers.get('cache-control'), body.query).toBe('no-store');
    }
  });

  it('lets anyone call login, and asks for a token everywhere else', async () => {
    const anonymous = await raw('{ license { credits } }', '');
    expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const login = await raw('mutation { login(input: { userName: "admin", password: "nope-nope1" }) { token userErrors { code } } }', '');
    expect(login.body.data.login).toEqual({ token: null, userErrors: [{ code: 'UNAUTHENTICATED' }] });
  });

  it('masks unexpected errors and keeps deliberate ones', () => {
    const logged: unknown[] = [];
    const format = maskUnexpectedErrors(pino({ level: 'error' }, { write: (line: string) => void logged.push(line) }));
    const internal = format({ message: 'connect ECONNREFUSED 10.0.0.1:5432', path: ['license'] }, new Error('connect ECONNREFUSED 10.0.0.1:5432'));
    expect(internal.message).toMatch(/^Internal error \(reference [0-9a-f-]{36}\); the failure was logged\.$/);
    expect(internal.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(logged.join('')).toContain('ECONNREFUSED');
    const deliberate = new GraphQLError('first must be between 0 and 100.', { extensions: { code: 'BAD_USER_INPUT' } });
    expect(format({ message: deliberate.message, extensions: deliberate.extensions }, deliberate).message).toBe(deliberate.message);
  });
});
