import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/graphql/global-id.js';
import { createLogger } from '../src/logger.js';
import { startFerry } from '../src/server.js';
import { TransportClient } from '../src/transport/transport-client.js';
import {
  CloudTransportServersDocument, TransportServerAddDocument, TransportServerDeleteDocument, TransportServerNodeDocument, TransportServerRefreshDocument,
  TransportServersDocument, TransportServerUpdateDocument, TransportServerVerifyDocument, type TransportServerAddInput,
} from './generated/graphql.js';
import { graphql } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { freePort } from './support/ports.js';
import { queriesDuring } from './support/query-count.js';
import { spawnFerry, type FerryProcess } from './support/transport-fixture.js';

const CALLBACK_URL = 'http://127.0.0.1:9/ferry/v1/transport-events';

describe('transport servers through GraphQL, with real transports', () => {
  let dir: string;
  let t: TestFerry;
  let token: string;
  let cloud: FerryProcess;
  let onPrem: FerryProcess;
  let cloudGlobalId: string;
  const input = (fields: Partial<TransportServerAddInput> = {}): TransportServerAddInput => ({
    servType: 'CLOUD',
    name: 'gql-cloud-transport',
    cloudId: cloudGlobalId,
    mgntAddr: cloud.addr,
    ...fields,
  });
  const sql = (query: string, params: unknown[] = []) => t.ferry.db.orm.em.getConnection().execute(query, params);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-transports-gql-'));
    [cloud, onPrem] = await Promise.all([
      spawnFerry('transport', ['--state', path.join(dir, 'cloud'), '--max-tasks', '3', '--storage-type', 'XSKY', '--storage-id', 'pool-7']),
      spawnFerry('transport', ['--state', path.join(dir, 'on-prem'), '--max-tasks', '2', '--storage-type', 'FCSAN', '--storage-id', 'lun-1']),
    ]);
    // where transports are told to send events: here a URL of its own, as behind a proxy
    t = await startTestFerry({ callbackUrl: CALLBACK_URL });
    token = await adminToken(t.url);
    const cloudId = randomUUID();
    await sql(`insert into cloud_connections (id, name, cloud_type, cloud_user, cloud_pass_sealed, cloud_addr) values (?, 'gql-cloud', 'Openstack', 'admin', 'v1.unused', '127.0.0.1')`, [cloudId]);
    cloudGlobalId = toGlobalId('Cloud', cloudId);
  });
  afterAll(async () => {
    await Promise.all([cloud?.stop(), onPrem?.stop()]);
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses bad input as userErrors naming the GraphQL input field, and stores nothing', async () => {
    const deadPort = await freePort();
    const cases: [Partial<TransportServerAddInput>, { field: string; code: string; message: RegExp }][] = [
      [{ name: ' ' }, { field: 'name', code: 'INVALID_INPUT', message: /^Name must be 1–64 characters/ }],
      [{ cloudId: null }, { field: 'cloudId', code: 'INVALID_INPUT', message: /^CloudId is required for a Cloud transport server/ }],
      [{ cloudId: toGlobalId('Cloud', randomUUID()) }, { field: 'cloudId', code: 'NOT_FOUND', message: /^CloudId names no cloud connection/ }],
      [{ servType: 'ON_PREMISES' }, { field: 'cloudId', code: 'INVALID_INPUT', message: /^CloudId must be empty for an On-Premises transport server/ }],
      [{ mgntAddr: 'not an address' }, { field: 'mgntAddr', code: 'INVALID_INPUT', message: /^MgntAddr must be host or host:port/ }],
      [{ mgntAddr: `127.0.0.1:${deadPort}` }, { field: 'mgntAddr', code: 'TRANSPORT_ERROR', message: /cannot be reached: .*ECONNREFUSED/ }],
    ];
    for (const [fields, error] of cases) {
      const r = await graphql(t.url, TransportServerAddDocument, { input: input(fields) }, token);
      expect(r.data?.transportServerAdd, JSON.stringify(fields)).toEqual({ transportServer: null, userErrors: [{ ...error, message: expect.stringMatching(error.message) }] });
    }
    const badEnum = await graphql(t.url, TransportServerAddDocument, { input: input({ servType: 'HYBRID' as 'CLOUD' }) }, token);
    expect(badEnum.errors?.[0].message).toMatch(/TransportServType/);
    expect((await graphql(t.url, TransportServersDocument, {}, token)).data?.transportServers.totalCount).toBe(0);
    expect((await new TransportClient(cloud.addr).info()).paired).toBe(false);

    const unreachable = await graphql(t.url, TransportServerVerifyDocument, { input: { mgntAddr: `127.0.0.1:${deadPort}` } }, token);
    expect(unreachable.data?.transportServerVerify).toEqual({ verified: false, userErrors: [{ field: 'mgntAddr', code: 'TRANSPORT_ERROR', message: expect.stringMatching(/^transport at 127\.0\.0\.1:\d+ cannot be reached/) }] });
    expect((await graphql(t.url, TransportServerVerifyDocument, { input: { mgntAddr: cloud.addr } }, token)).data?.transportServerVerify).toEqual({ verified: true, userErrors: [] });
  });

  it('adds transports, pages and filters them with their live load, and fetches them by global id and from their cloud', async () => {
    const added = await graphql(t.url, TransportServerAddDocument, { input: input() }, token);
    expect(added.data?.transportServerAdd.userErrors).toEqual([]);
    const first = added.data!.transportServerAdd.transportServer!;
    expect(first).toMatchObject({ name: 'gql-cloud-transport', servType: 'CLOUD', mgntAddr: cloud.addr, maxSupportedTasks: 3, currentTasks: 0, storageId: 'pool-7', storageType: 'XSKY', offline: false, cloud: { id: cloudGlobalId, name: 'gql-cloud' } });
    expect(first.lastSeenAt).toBeTruthy();
    expect(JSON.parse(await readFile(path.join(dir, 'cloud', 'pairing.json'), 'utf8')).callbackUrl).toBe(CALLBACK_URL);
    // the second through another replica: both pair as the same controller
    const replica = await startFerry({ ...t.config, port: 0 }, createLogger('silent'));
    try {
      const second = await graphql(replica.url, TransportServerAddDocument, { input: { servType: 'ON_PREMISES', name: 'gql-on-prem', mgntAddr: onPrem.addr } }, token);
      expect(second.data?.transportServerAdd).toMatchObject({ transportServer: { servType: 'ON_PREMISES', cloud: null, storageType: 'FCSAN', maxSupportedTasks: 2 }, userErrors: [] });
    } finally {
      await replica.close();
    }
    const controllers = await Promise.all(['cloud', 'on-prem'].map(async (s) => JSON.parse(await readFile(path.join(dir, s, 'pairing.json'), 'utf8')).controllerId));
    expect(controllers[0]).toMatch(/^ferry-[0-9a-f-]{36}$/);
    expect(controllers[1]).toBe(controllers[0]);
    const duplicate = await graphql(t.url, TransportServerAddDocument, { input: input({ name: 'again' }) }, token);
    expect(duplicate.data?.transportServerAdd.userErrors).toEqual([{ field: 'mgntAddr', code: 'CONFLICT', message: `A transport server at ${cloud.addr} is already registered ("gql-cloud-transport").` }]);

    await sql(`update transport_servers set current_tasks = 7`);
    const page1 = await graphql(t.url, TransportServersDocument, { first: 1 }, token);
    expect(page1.data?.transportServers).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true } });
    expect(page1.data?.transportServers.edges.map((e) => [e.node.name, e.node.currentTasks])).toEqual([['gql-cloud-transport', 0]]);
    const page2 = await graphql(t.url, TransportServersDocument, { first: 1, after: page1.data!.transportServers.pageInfo.endCursor }, token);
    expect(page2.data?.transportServers.edges.map((e) => e.node.name)).toEqual(['gql-on-prem']);
    expect(page2.data?.transportServers.pageInfo.hasNextPage).toBe(false);
    const names = async (vars: { name?: string; servType?: 'CLOUD' | 'ON_PREMISES' }) => (await graphql(t.url, TransportServersDocument, vars, token)).data?.transportServers.edges.map((e) => e.node.name);
    expect(await names({ servType: 'ON_PREMISES' })).toEqual(['gql-on-prem']);
    expect(await names({ servType: 'CLOUD', name: 'CLOUD-T' })).toEqual(['gql-cloud-transport']);
    expect(await names({ name: 'nothing' })).toEqual([]);

    const node = await graphql(t.url, TransportServerNodeDocument, { id: first.id }, token);
    expect(node.data?.node).toEqual({ id: first.id, name: 'gql-cloud-transport', servType: 'CLOUD', mgntAddr: cloud.addr });
    expect((await graphql(t.url, TransportServerNodeDocument, { id: toGlobalId('TransportServer', 'not-a-uuid') }, token)).data?.node).toBeNull();
    const ofCloud = await graphql(t.url, CloudTransportServersDocument, { id: cloudGlobalId }, token);
    expect(ofCloud.data?.node).toEqual({ id: cloudGlobalId, name: 'gql-cloud', transportServers: [{ name: 'gql-cloud-transport', mgntAddr: cloud.addr, currentTasks: 0 }] });
  });

  it('shows a stopped transport offline with its last known load, refreshes it when back, renames it', async () => {
    const list = await graphql(t.url, TransportServersDocument, { servType: 'ON_PREMISES' }, token);
    const node = list.data!.transportServers.edges[0].node;
    await sql(`update transport_servers set current_tasks = 1 where id = ?`, [node.transportServerId]);
    await onPrem.stop();
    const silent = await graphql(t.url, TransportServersDocument, { servType: 'ON_PREMISES' }, token);
    expect(silent.data?.transportServers.edges[0].node).toMatchObject({ offline: true, currentTasks: 1 });
    const refused = await graphql(t.url, TransportServerRefreshDocument, { input: { transportServerId: node.id } }, token);
    expect(refused.data?.transportServerRefresh.userErrors[0]).toMatchObject({ code: 'TRANSPORT_ERROR', message: expect.stringMatching(/cannot be reached/) });

    onPrem = await spawnFerry('transport', onPrem.args, onPrem.port);
    const refreshed = await graphql(t.url, TransportServerRefreshDocument, { input: { transportServerId: node.id } }, token);
    expect(refreshed.data?.transportServerRefresh).toMatchObject({ transportServer: { offline: false, currentTasks: 0, storageId: 'lun-1' }, userErrors: [] });
    // the plain id REST uses works too
    const renamed = await graphql(t.url, TransportServerUpdateDocument, { input: { transportServerId: node.transportServerId, name: 'gql-renamed' } }, token);
    expect(renamed.data?.transportServerUpdate).toMatchObject({ transportServer: { id: node.id, name: 'gql-renamed' }, userErrors: [] });
    const bad = await graphql(t.url, TransportServerUpdateDocument, { input: { transportServerId: node.id, name: 'n'.repeat(65) } }, token);
    expect(bad.data?.transportServerUpdate.userErrors).toEqual([{ field: 'name', code: 'INVALID_INPUT', message: expect.stringMatching(/^Name must be 1–64 characters/) }]);
    const missing = await graphql(t.url, TransportServerRefreshDocument, { input: { transportServerId: toGlobalId('TransportServer', randomUUID()) } }, token);
    expect(missing.data?.transportServerRefresh.userErrors[0]).toMatchObject({ field: 'transportServerId', code: 'NOT_FOUND' });
  });

  it('refuses to delete a transport server a source host uses, then deletes it', async () => {
    const list = await graphql(t.url, TransportServersDocument, { name: 'gql-renamed' }, token);
    const node = list.data!.transportServers.edges[0].node;
    await sql(`insert into source_hosts (id, name, agent, transport_id) values (gen_random_uuid(), 'db-1', true, ?), (gen_random_uuid(), 'db-2', true, ?)`, [node.transportServerId, node.transportServerId]);
    const refused = await graphql(t.url, TransportServerDeleteDocument, { input: { transportServerId: node.id } }, token);
    expect(refused.data?.transportServerDelete).toEqual({ deletedTransportServerId: null, userErrors: [{ field: 'transportServerId', code: 'CONFLICT', message: 'Transport server "gql-renamed" is still used by 2 source hosts ("db-1", "db-2"); delete them first.' }] });
    await sql(`delete from source_hosts`);
    const deleted = await graphql(t.url, TransportServerDeleteDocument, { input: { transportServerId: node.id } }, token);
    expect(deleted.data?.transportServerDelete).toEqual({ deletedTransportServerId: node.id, userErrors: [] });
    expect((await graphql(t.url, TransportServersDocument, {}, token)).data?.transportServers.totalCount).toBe(1);
    expect((await graphql(t.url, TransportServerNodeDocument, { id: node.id }, token)).data?.node).toBeNull();
  });

  it('reads the clouds of a page of transports in one SQL query', async () => {
    const second = await spawnFerry('transport', ['--state', path.join(dir, 'cloud-2')]);
    try {
      const added = await graphql(t.url, TransportServerAddDocument, { input: input({ name: 'gql-cloud-transport-2', mgntAddr: second.addr }) }, token);
      expect(added.data?.transportServerAdd.userErrors).toEqual([]);
      let clouds: (string | undefined)[] = [];
      const queries = await queriesDuring(t.ferry.db.orm, async () => {
        const page = await graphql(t.url, TransportServersDocument, { servType: 'CLOUD' }, token);
        clouds = page.data!.transportServers.edges.map((e) => e.node.cloud?.name);
      });
      expect(clouds).toEqual(['gql-cloud', 'gql-cloud']);
      expect(queries.filter((q) => q.includes('"cloud_connections"')), queries.join('\n')).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });

  it('requires a logged-in user', async () => {
    const anonymous = await graphql(t.url, TransportServersDocument, {});
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
