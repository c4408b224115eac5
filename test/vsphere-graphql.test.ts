import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostVmsDocument, VspherePlatformAddDocument, VspherePlatformDeleteDocument, VsphereNodeDocument, VsphereTreeDocument, type VmPageFragment } from './generated/graphql.js';
import { graphql } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { queriesDuring } from './support/query-count.js';
import { spawnFerry, type FerryProcess } from './support/transport-fixture.js';
import { spawnVcsim, type VcsimProcess } from './support/vcsim.js';
import { addDatacenterTransport } from './support/vsphere-fixture.js';

/** The vSphere tree through GraphQL: one query for a whole vCenter, in SQL statements bounded by its depth. */
describe('vSphere trees through GraphQL, against vcsim', () => {
  let dir: string;
  let t: TestFerry;
  let token: string;
  let transport: FerryProcess;
  let small: VcsimProcess;
  let large: VcsimProcess;
  let esx: VcsimProcess;
  let transId: string;
  const tree = () => graphql(t.url, VsphereTreeDocument, {}, token);
  const add = (vc: VcsimProcess, name: string) =>
    graphql(t.url, VspherePlatformAddDocument, { input: { name, address: vc.url, userName: vc.username, password: vc.password, transportServerId: transId } }, token);
  const vmsOf = (page: VmPageFragment) => page.edges.map((e) => e.node);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-vsphere-gql-'));
    [transport, small, large, esx] = await Promise.all([
      spawnFerry('transport', ['--state', path.join(dir, 'transport')]),
      spawnVcsim({ datacenters: 1, clusters: 1, clusterHosts: 2, hosts: 1, vms: 2, folderDepth: 3 }),
      spawnVcsim({ datacenters: 3, clusters: 2, clusterHosts: 3, hosts: 2, vms: 4, folderDepth: 3 }),
      spawnVcsim({ mode: 'esx', vms: 3 }),
    ]);
    t = await startTestFerry();
    token = await adminToken(t.url);
    transId = await addDatacenterTransport(t.url, token, transport);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([transport?.stop(), small?.stop(), large?.stop(), esx?.stop()]);
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds a platform, recording the self-signed certificate it was first shown; refusals name the input field', async () => {
    const wrong = await graphql(t.url, VspherePlatformAddDocument, { input: { name: 'x', address: small.url, userName: small.username, password: 'nope-nope', transportServerId: transId } }, token);
    expect(wrong.data?.vspherePlatformAdd.userErrors).toEqual([{ field: 'password', code: 'VSPHERE_ERROR', message: expect.stringMatching(/InvalidLogin/) }]);
    const added = await add(small, 'small');
    expect(added.data?.vspherePlatformAdd.userErrors).toEqual([]);
    expect(added.data?.vspherePlatformAdd.vspherePlatform).toMatchObject({ name: 'small', isVcenter: true, certThumbprint: small.sha256 });
    expect(added.data?.vspherePlatformAdd.report?.vms).toBe(small.counts.vms);
  });

  it('returns the whole tree in one query, in SQL statements bounded by its depth, for a small and a four times larger tree', async () => {
    let first!: Awaited<ReturnType<typeof tree>>;
    const smallQueries = await queriesDuring(t.ferry.db.orm, async () => (first = await tree()));
    expect(first.errors).toBeUndefined();
    const [p] = first.data!.vspherePlatforms;
    const dc = p.datacenters[0];
    const onHosts = [...dc.hosts, ...dc.clusters.flatMap((c) => c.hosts)].flatMap((h) => vmsOf(h.vms));
    expect(onHosts).toHaveLength(small.counts.vms);
    expect(p.vmCount).toBe(small.counts.vms);
    expect(onHosts.every((vm) => vm.disks.length > 0 && vm.disks[0].fileName.startsWith('[') && vm.nics.length > 0)).toBe(true);
    expect(dc.vmFolders[0].folders[0].folders[0].name).toMatch(/_NF3$/);

    expect((await add(large, 'large')).data?.vspherePlatformAdd.userErrors).toEqual([]);
    let both!: Awaited<ReturnType<typeof tree>>;
    const largeQueries = await queriesDuring(t.ferry.db.orm, async () => (both = await tree()));
    expect(both.errors).toBeUndefined();
    const big = both.data!.vspherePlatforms.find((x) => x.name === 'large')!;
    const bigVms = big.datacenters.flatMap((d) => [...d.hosts, ...d.clusters.flatMap((c) => c.hosts)]).flatMap((h) => vmsOf(h.vms));
    expect(bigVms).toHaveLength(large.counts.vms);
    expect(large.counts.vms).toBeGreaterThan(3 * small.counts.vms);
    // at most one statement per level of the query, whatever the tree's width: the session, the
    // platforms and their VM counts, datacenters, clusters, standalone hosts, top folders, cluster
    // hosts, 4 levels of sub-folders, and per level holding VMs (hosts, 5 folder levels; standalone
    // and cluster hosts may share one) a page of VMs, their disks and their NICs
    const bound = 1 + 2 + 4 + 1 + 4 + 7 * 3;
    expect(smallQueries.length).toBeLessThanOrEqual(bound);
    expect(largeQueries.length).toBeLessThanOrEqual(bound);
  });

  it('pages a host’s VMs with cursors and fetches every level by node(id)', async () => {
    const { data } = await tree();
    const big = data!.vspherePlatforms.find((x) => x.name === 'large')!;
    const host = big.datacenters[0].clusters[0].hosts[0];
    const all = vmsOf(host.vms).map((v) => v.name);
    expect(all.length).toBeGreaterThan(1);
    const one = await graphql(t.url, HostVmsDocument, { id: host.id, first: 1 }, token);
    const firstPage = one.data?.node as { vms: VmPageFragment } | null;
    expect(vmsOf(firstPage!.vms).map((v) => v.name)).toEqual(all.slice(0, 1));
    expect(firstPage!.vms).toMatchObject({ totalCount: all.length, pageInfo: { hasNextPage: true } });
    const rest2 = await graphql(t.url, HostVmsDocument, { id: host.id, first: 100, after: firstPage!.vms.pageInfo.endCursor }, token);
    const second = rest2.data?.node as { vms: VmPageFragment };
    expect(vmsOf(second.vms).map((v) => v.name)).toEqual(all.slice(1));
    expect(second.vms).toMatchObject({ totalCount: all.length, pageInfo: { hasNextPage: false } });
    const bad = await graphql(t.url, HostVmsDocument, { id: host.id, first: 1, after: 'not-a-cursor' }, token);
    expect(bad.errors?.[0]).toMatchObject({ message: 'after is not a cursor of this list.', extensions: { code: 'BAD_USER_INPUT' } });

    const dc = big.datacenters[0];
    const vm = vmsOf(host.vms)[0];
    for (const [id, name] of [[big.id, 'large'], [dc.id, dc.name], [dc.clusters[0].id, dc.clusters[0].name], [host.id, host.name], [dc.vmFolders[0].id, dc.vmFolders[0].name], [vm.id, vm.name]]) {
      const got = await graphql(t.url, VsphereNodeDocument, { id }, token);
      expect(got.data?.node, name).toMatchObject({ id, name });
    }
  });

  it('adds an ESXi host as a platform: not a vCenter, one datacenter, its one standalone host with the VMs', async () => {
    const added = await add(esx, 'esx-1');
    expect(added.data?.vspherePlatformAdd.userErrors).toEqual([]);
    expect(added.data?.vspherePlatformAdd.vspherePlatform).toMatchObject({ name: 'esx-1', isVcenter: false });
    const p = (await tree()).data!.vspherePlatforms.find((x) => x.name === 'esx-1')!;
    expect(p.datacenters).toHaveLength(1);
    const [dc] = p.datacenters;
    expect(dc.clusters).toEqual([]);
    expect(dc.hosts).toHaveLength(1);
    expect(vmsOf(dc.hosts[0].vms)).toHaveLength(esx.counts.vms);
    expect(p.vmCount).toBe(esx.counts.vms);
  });

  it('deletes a platform', async () => {
    const { data } = await tree();
    const smallId = data!.vspherePlatforms.find((x) => x.name === 'small')!.id;
    const deleted = await graphql(t.url, VspherePlatformDeleteDocument, { input: { vspherePlatformId: smallId } }, token);
    expect(deleted.data?.vspherePlatformDelete).toMatchObject({ userErrors: [], deletedVspherePlatformId: expect.any(String) });
    expect((await tree()).data?.vspherePlatforms.map((p) => p.name)).toEqual(['large', 'esx-1']);
  });
});
