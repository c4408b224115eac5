import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudAddDocument, CloudDeleteDocument, CloudLookupsDocument, CloudNodeDocument, CloudsDocument, CloudUpdateDocument, CloudVerifyDocument, type CloudInput } from './generated/graphql.js';
import { graphql } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { spawnSimulator, type SimulatorProcess } from './support/simulator.js';

describe('cloud connections through GraphQL, against the OpenStack simulator', () => {
  let sim: SimulatorProcess;
  let t: TestFerry;
  let token: string;
  const input = (fields: Partial<CloudInput> = {}): CloudInput => ({
    name: 'gql-cloud',
    kind: 'OPENSTACK',
    projectName: 'demo',
    user: 'admin',
    password: 'secret',
    port: String(sim.port),
    address: '127.0.0.1',
    ...fields,
  });

  beforeAll(async () => {
    sim = await spawnSimulator('openstack');
    t = await startTestFerry();
    token = await adminToken(t.url);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  it('refuses bad input and bad credentials as userErrors naming the input field', async () => {
    const short = await graphql(t.url, CloudAddDocument, { input: input({ name: 'x' }) }, token);
    expect(short.data?.cloudAdd.userErrors).toEqual([{ field: 'name', code: 'INVALID_INPUT', message: expect.stringMatching(/^CloudName must be 2–20 characters/) }]);
    const noProject = await graphql(t.url, CloudAddDocument, { input: input({ projectName: null }) }, token);
    expect(noProject.data?.cloudAdd.userErrors[0]).toMatchObject({ field: 'projectName', code: 'INVALID_INPUT' });
    const wrong = await graphql(t.url, CloudVerifyDocument, { input: input({ password: 'wrong' }) }, token);
    expect(wrong.data?.cloudVerify).toEqual({ verified: false, userErrors: [{ field: 'password', code: 'CLOUD_ERROR', message: expect.stringMatching(/cloud "gql-cloud": authenticate .*401/) }] });
    expect((await graphql(t.url, CloudVerifyDocument, { input: input() }, token)).data?.cloudVerify).toEqual({ verified: true, userErrors: [] });
    expect((await graphql(t.url, CloudsDocument, { first: 10 }, token)).data?.clouds.totalCount).toBe(0);
  });

  it('adds clouds, pages through them, fetches one by its global id, and reads the cloud’s live look-ups', async () => {
    const added = await graphql(t.url, CloudAddDocument, { input: input() }, token);
    expect(added.data?.cloudAdd.userErrors).toEqual([]);
    const cloud = added.data!.cloudAdd.cloud!;
    expect(cloud).toMatchObject({ name: 'gql-cloud', kind: 'OPENSTACK', projectName: 'demo', domain: 'Default', user: 'admin', protocol: 'http' });
    expect(JSON.stringify(added)).not.toContain('secret');
    await graphql(t.url, CloudAddDocument, { input: input({ name: 'gql-cloud-2' }) }, token);
    const duplicate = await graphql(t.url, CloudAddDocument, { input: input() }, token);
    expect(duplicate.data?.cloudAdd.userErrors[0]).toMatchObject({ field: 'name', code: 'CONFLICT' });

    const first = await graphql(t.url, CloudsDocument, { first: 1 }, token);
    expect(first.data?.clouds).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true } });
    expect(first.data?.clouds.edges.map((e) => e.node.name)).toEqual(['gql-cloud']);
    const second = await graphql(t.url, CloudsDocument, { first: 1, after: first.data!.clouds.pageInfo.endCursor }, token);
    expect(second.data?.clouds.edges.map((e) => e.node.name)).toEqual(['gql-cloud-2']);
    expect(second.data?.clouds.pageInfo.hasNextPage).toBe(false);
    expect((await graphql(t.url, CloudsDocument, { name: '-2' }, token)).data?.clouds.totalCount).toBe(1);

    const node = await graphql(t.url, CloudNodeDocument, { id: cloud.id }, token);
    expect(node.data?.node).toEqual({ id: cloud.id, name: 'gql-cloud', kind: 'OPENSTACK' });

    const lookups = await graphql(t.url, CloudLookupsDocument, { first: 1 }, token);
    expect(lookups.errors).toBeUndefined();
    const live = lookups.data!.clouds.edges[0].node;
    expect(live.flavors.map((f) => f.name)).toEqual(expect.arrayContaining(['m1.tiny', 'm1.small', 'm1.medium', 'm1.large']));
    expect(live.flavors.find((f) => f.name === 'm1.medium')).toMatchObject({ vcpus: 2, ramMiB: 4096, diskGiB: 40 });
    const priv = live.networks.find((n) => n.name === 'private')!;
    expect(priv.subnets.map((s) => s.cidr).sort()).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    expect(priv.subnets.every((s) => s.gatewayIp)).toBe(true);
    expect(live.securityGroups.map((g) => g.name).sort()).toEqual(['default', 'web']);
    expect(live.volumeTypes.find((v) => v.name === 'ssd')?.backend).toBeTruthy();
    expect(live.storages.length).toBeGreaterThan(0);
    expect(live.quota.cores.limit).toBe(20);
    expect(live.quota.volumeGiB.limit).toBe(1000);
  });

  it('updates and deletes by global id, and reports a cloud gone dark as a field error', async () => {
    const list = await graphql(t.url, CloudsDocument, { name: 'gql-cloud-2' }, token);
    const id = list.data!.clouds.edges[0].node.id;
    const renamed = await graphql(t.url, CloudUpdateDocument, { input: { cloudId: id, name: 'gql-renamed' } }, token);
    expect(renamed.data?.cloudUpdate).toMatchObject({ cloud: { name: 'gql-renamed' }, userErrors: [] });
    const refused = await graphql(t.url, CloudUpdateDocument, { input: { cloudId: id, password: 'nope' } }, token);
    expect(refused.data?.cloudUpdate.userErrors[0]).toMatchObject({ field: 'password', code: 'CLOUD_ERROR' });
    const deleted = await graphql(t.url, CloudDeleteDocument, { input: { cloudId: id } }, token);
    expect(deleted.data?.cloudDelete).toEqual({ deletedCloudId: id, userErrors: [] });
    const again = await graphql(t.url, CloudDeleteDocument, { input: { cloudId: id } }, token);
    expect(again.data?.cloudDelete.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: 'cloudId' });

    await sim.stop();
    const dark = await graphql(t.url, CloudLookupsDocument, { first: 1 }, token);
    expect(dark.errors?.[0]).toMatchObject({ message: expect.stringMatching(/cloud "gql-cloud": .*cannot reach/), extensions: { code: 'CLOUD_ERROR' } });
  });
});
