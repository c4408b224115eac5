import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../src/graphql/global-id.js';
import {
  SourceHostAddDocument, SourceHostDeleteDocument, SourceHostNodeDocument, SourceHostRefreshDocument, SourceHostsBatchedDocument, SourceHostsDocument,
  SourceHostUpdateDocument, SourceHostVerifyDocument, TransportServerAddDocument, TransportServerSourceHostsDocument, type SourceHostAddInput, type SourceHostsBatchedQuery, type SourceHostsBatchedQueryVariables,
} from './generated/graphql.js';
import { graphql } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { freePort } from './support/ports.js';
import { queriesDuring } from './support/query-count.js';
import { makeImage, spawnFerry, type FerryProcess } from './support/transport-fixture.js';

const MiB = 1024 * 1024;
const AGENTS = 6;

/** A 64 MiB disk with an MBR, one bootable partition and ext4 on it (as in hosts-rest.test.ts). */
function makeBootDisk(file: string): void {
  execFileSync('truncate', ['-s', `${64 * MiB}`, file]);
  execFileSync('sfdisk', ['-q', file], { input: 'label: dos\nstart=2048, size=100000, type=83, bootable\n' });
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', `offset=${2048 * 512}`, file, `${Math.floor((100000 * 512) / 1024)}k`]);
}

describe('agent hosts through GraphQL, with a real transport and agents', () => {
  let dir: string;
  let t: TestFerry;
  let token: string;
  let transport: FerryProcess;
  /** each host needs an agent of its own address */
  let agents: FerryProcess[] = [];
  let transportGlobalId: string;
  let hostGlobalId: string;
  const file = (name: string) => path.join(dir, name);
  const input = (fields: Partial<SourceHostAddInput> = {}): SourceHostAddInput => ({ name: 'web-1', transportServerId: transportGlobalId, mgntAddr: agents[0].addr, ...fields });
  const add = async (fields: Partial<SourceHostAddInput>) => {
    const r = await graphql(t.url, SourceHostAddDocument, { input: input(fields) }, token);
    expect(r.data?.sourceHostAdd.userErrors, JSON.stringify(r)).toEqual([]);
    return r.data!.sourceHostAdd.sourceHost!;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-hosts-gql-'));
    makeBootDisk(file('boot.img'));
    await makeImage(file('data.img'), 8, [1]);
    [transport, ...agents] = await Promise.all([
      spawnFerry('transport', ['--state', file('transport')]),
      ...Array.from({ length: AGENTS }, (_, i) => spawnFerry('agent', ['--disk', file('boot.img'), '--disk', file('data.img'), '--state', file(`agent-${i}`)])),
    ]);
    // no periodic agent check nor task engine tick: they would add queries to the counted requests
    t = await startTestFerry({ hostCheckSeconds: 3600, engineTimings: { tickMs: 3_600_000 } });
    token = await adminToken(t.url);
    const added = await graphql(t.url, TransportServerAddDocument, { input: { servType: 'ON_PREMISES', name: 'source-side', mgntAddr: transport.addr } }, token);
    expect(added.data?.transportServerAdd.userErrors).toEqual([]);
    transportGlobalId = added.data!.transportServerAdd.transportServer!.id;
  }, 60_000);
  afterAll(async () => {
    await Promise.all([transport?.stop(), ...agents.map((a) => a.stop())]);
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds an agent host and reads it back with its volumes, NICs and transport', async () => {
    const host = await add({});
    hostGlobalId = host.id;
    expect(host).toMatchObject({ name: 'web-1', mgntAddr: agents[0].addr, cpus: os.cpus().length, totalSize: 72 * MiB, canNotMigrate: false, offline: false, transport: { id: transportGlobalId, name: 'source-side', mgntAddr: transport.addr } });
    expect(host.id).toBe(toGlobalId('SourceHost', host.sourceHostId));
    expect(host.lastSeenAt).toBeTruthy();
    const [boot, data] = host.volumes;
    expect(boot).toMatchObject({ path: file('boot.img'), type: 'disk', size: 64 * MiB, partitionTable: 'MBR', filesystem: 'ext4', use: 'BOOT', freeSpaceNotEnough: true, canNotBeMigrated: false, canNotBeMigratedReason: null });
    expect(boot.freeSpace).toBeGreaterThan(30 * MiB);
    expect(data).toMatchObject({ path: file('data.img'), size: 8 * MiB, partitionTable: null, filesystem: null, freeSpace: null, canNotBeMigrated: false });
    expect(host.netInterfaces.length).toBeGreaterThan(0);
    expect(host.netInterfaces[0]).toMatchObject({ mac: expect.any(String), ips: expect.any(Array) });

    const list = await graphql(t.url, SourceHostsDocument, {}, token);
    expect(list.data?.sourceHosts.totalCount).toBe(1);
    expect(list.data?.sourceHosts.edges[0].node).toEqual(host);
    expect((await graphql(t.url, SourceHostsDocument, { name: 'WEB' }, token)).data?.sourceHosts.totalCount).toBe(1);
    expect((await graphql(t.url, SourceHostsDocument, { name: 'db' }, token)).data?.sourceHosts.totalCount).toBe(0);
    const port = agents[0].addr.split(':').pop();
    expect((await graphql(t.url, SourceHostsDocument, { mgntAddr: `:${port}` }, token)).data?.sourceHosts.totalCount).toBe(1);
    expect((await graphql(t.url, SourceHostsDocument, { mgntAddr: agents[1].addr }, token)).data?.sourceHosts.totalCount).toBe(0);
    expect((await graphql(t.url, SourceHostsDocument, { taskFree: true }, token)).data?.sourceHosts.totalCount).toBe(1);
    const ofTransport = await graphql(t.url, TransportServerSourceHostsDocument, { id: transportGlobalId }, token);
    expect(ofTransport.data?.node).toEqual({ id: transportGlobalId, name: 'source-side', sourceHosts: [{ name: 'web-1', mgntAddr: agents[0].addr }] });
  });

  it('refuses bad input as userErrors naming the GraphQL input field, and stores nothing', async () => {
    const deadPort = await freePort();
    const missing = randomUUID();
    const cases: [Partial<SourceHostAddInput>, { field: string; code: string; message: RegExp }][] = [
      [{ name: ' ', mgntAddr: agents[1].addr }, { field: 'name', code: 'INVALID_INPUT', message: /^Name must be 1–32 characters/ }],
      [{ transportServerId: toGlobalId('TransportServer', missing), mgntAddr: agents[1].addr }, { field: 'transportServerId', code: 'NOT_FOUND', message: /^TransId names no transport server/ }],
      [{ mgntAddr: 'a:b:c:99999' }, { field: 'mgntAddr', code: 'INVALID_INPUT', message: /^MgntAddr must be host or host:port/ }],
      [{ name: 'again' }, { field: 'mgntAddr', code: 'CONFLICT', message: /is already registered \("web-1"\)/ }],
      [{ mgntAddr: `127.0.0.1:${deadPort}` }, { field: 'mgntAddr', code: 'TRANSPORT_ERROR', message: /could not be reached/ }],
    ];
    for (const [fields, error] of cases) {
      const r = await graphql(t.url, SourceHostAddDocument, { input: input(fields) }, token);
      expect(r.data?.sourceHostAdd, JSON.stringify(fields)).toEqual({ sourceHost: null, userErrors: [{ ...error, message: expect.stringMatching(error.message) }] });
    }
    expect((await graphql(t.url, SourceHostsDocument, {}, token)).data?.sourceHosts.totalCount).toBe(1);
  });

  it('verifies, refreshes, renames, and fetches the host by global id', async () => {
    expect((await graphql(t.url, SourceHostVerifyDocument, { input: { sourceHostId: hostGlobalId } }, token)).data?.sourceHostVerify).toEqual({ verified: true, userErrors: [] });
    const otherTransport = await graphql(t.url, SourceHostVerifyDocument, { input: { sourceHostId: hostGlobalId, transAddr: '127.0.0.1:1' } }, token);
    expect(otherTransport.data?.sourceHostVerify).toEqual({ verified: false, userErrors: [{ field: 'transAddr', code: 'NOT_FOUND', message: expect.stringMatching(/^TransAddr names no registered transport server/) }] });
    const refreshed = await graphql(t.url, SourceHostRefreshDocument, { input: { sourceHostId: hostGlobalId } }, token);
    expect(refreshed.data?.sourceHostRefresh).toMatchObject({ sourceHost: { id: hostGlobalId, offline: false, volumes: [{ size: 64 * MiB }, { size: 8 * MiB }] }, userErrors: [] });

    const renamed = await graphql(t.url, SourceHostUpdateDocument, { input: { sourceHostId: hostGlobalId, name: ' web-renamed ' } }, token);
    expect(renamed.data?.sourceHostUpdate).toEqual({ sourceHost: { id: hostGlobalId, name: 'web-renamed' }, userErrors: [] });
    const bad = await graphql(t.url, SourceHostUpdateDocument, { input: { sourceHostId: hostGlobalId, name: 'x'.repeat(33) } }, token);
    expect(bad.data?.sourceHostUpdate.userErrors).toEqual([{ field: 'name', code: 'INVALID_INPUT', message: expect.stringMatching(/^Name must be 1–32 characters/) }]);
    const unknown = await graphql(t.url, SourceHostRefreshDocument, { input: { sourceHostId: toGlobalId('SourceHost', randomUUID()) } }, token);
    expect(unknown.data?.sourceHostRefresh.userErrors[0]).toMatchObject({ field: 'sourceHostId', code: 'NOT_FOUND' });

    const node = await graphql(t.url, SourceHostNodeDocument, { id: hostGlobalId }, token);
    expect(node.data?.node).toEqual({ id: hostGlobalId, name: 'web-renamed', mgntAddr: agents[0].addr });
    expect((await graphql(t.url, SourceHostNodeDocument, { id: toGlobalId('SourceHost', 'not-a-uuid') }, token)).data?.node).toBeNull();
  });

  it('reads a page of hosts with their transport, volumes and NICs in as many queries for 6 hosts as for 2', async () => {
    await add({ name: 'web-2', mgntAddr: agents[1].addr });
    /** the SQL one request sends, and what it answered */
    const page = async (expected: number) => {
      let reply: Awaited<ReturnType<typeof graphql<SourceHostsBatchedQuery, SourceHostsBatchedQueryVariables>>> | undefined;
      const queries = await queriesDuring(t.ferry.db.orm, async () => {
        reply = await graphql(t.url, SourceHostsBatchedDocument, { first: 10 }, token);
      });
      const edges = reply?.data?.sourceHosts.edges ?? [];
      expect(edges).toHaveLength(expected);
      for (const { node } of edges) {
        expect(node.transport?.name).toBe('source-side');
        expect(node.volumes.map((v) => v.path)).toEqual([file('boot.img'), file('data.img')]);
        expect(node.netInterfaces.length).toBeGreaterThan(0);
      }
      return queries;
    };
    const forTwo = await page(2);
    for (let i = 2; i < AGENTS; i++) await add({ name: `web-${i + 1}`, mgntAddr: agents[i].addr });
    const forSix = await page(6);
    expect(forTwo.length).toBeGreaterThan(0);
    expect(forSix.length, forSix.join('\n')).toBe(forTwo.length);
  });

  it('deletes a host; it is gone from lists, node(id) and its transport', async () => {
    const deleted = await graphql(t.url, SourceHostDeleteDocument, { input: { sourceHostId: hostGlobalId } }, token);
    expect(deleted.data?.sourceHostDelete).toEqual({ deletedSourceHostId: hostGlobalId, userErrors: [] });
    expect((await graphql(t.url, SourceHostNodeDocument, { id: hostGlobalId }, token)).data?.node).toBeNull();
    expect((await graphql(t.url, SourceHostsDocument, {}, token)).data?.sourceHosts.totalCount).toBe(AGENTS - 1);
    const again = await graphql(t.url, SourceHostDeleteDocument, { input: { sourceHostId: hostGlobalId } }, token);
    expect(again.data?.sourceHostDelete).toEqual({ deletedSourceHostId: null, userErrors: [{ field: 'sourceHostId', code: 'NOT_FOUND', message: expect.stringMatching(/^There is no agent host/) }] });
    const ofTransport = await graphql(t.url, TransportServerSourceHostsDocument, { id: transportGlobalId }, token);
    expect(ofTransport.data?.node).toMatchObject({ sourceHosts: expect.not.arrayContaining([expect.objectContaining({ name: 'web-renamed' })]) });
  });

  it('requires a logged-in user', async () => {
    const anonymous = await graphql(t.url, SourceHostsDocument, {});
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
