import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudDirectoryDocument, CloudRegionsDocument, CloudZonesDocument, type CloudKeysInput } from './generated/graphql.js';
import { graphql, rest } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { spawnSimulator, type SimulatorProcess } from './support/simulator.js';

/** The look-ups that carry AK/SK credentials themselves, and AK/SK clouds as connections, through REST and GraphQL. */
describe('AK/SK clouds through the legacy REST API and GraphQL, against their simulators', () => {
  let cu4: SimulatorProcess;
  let huayun: SimulatorProcess;
  let t: TestFerry;
  let token: string;
  const call = (body: Record<string, unknown>, path = '/MgmtCloudConnection') => rest(t.url, path, body, token);
  const cu4Keys = () => ({ APIMgntURL: `${cu4.url}/api`, AccessKey: 'ferry-ak', SecretKey: 'ferry-sk', IsEncrypted: 'False' });

  beforeAll(async () => {
    [cu4, huayun] = await Promise.all([spawnSimulator('cloudultra'), spawnSimulator('huayun')]);
    t = await startTestFerry();
    token = await adminToken(t.url);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([cu4?.stop(), huayun?.stop()]);
  });

  it('lists CloudUltra 4 projects, environments (by hypervisor) and zones with the credentials given', async () => {
    const projects = await call({ Action: 'ListProject', ...cu4Keys() });
    expect(projects.body).toMatchObject({ Code: 0, Msg: 'Get All Project Success.' });
    expect(projects.body.Data.map((p: { Name: string }) => p.Name)).toEqual(expect.arrayContaining(['cmigrate', 'lipf_test']));
    expect(Object.keys(projects.body.Data[0])).toEqual(['Name', 'ID']);
    const kvm = await call({ Action: 'ListEnvironment', ...cu4Keys(), HypervisorType: 'KVM' });
    expect(kvm.body.Data).toEqual([{ Name: 'KVM', ID: '1' }]);
    const owner = projects.body.Data.find((p: { Name: string }) => p.Name === 'cmigrate').ID;
    const zones = await call({ Action: 'ListZone', ...cu4Keys(), EnvironmentId: '1', OwnerId: owner });
    expect(zones.body.Data.map((z: { Name: string }) => z.Name).sort()).toEqual(['DC-Shanghai-A', 'DC-Shanghai-B']);
    const wrong = await call({ Action: 'ListProject', ...cu4Keys(), SecretKey: 'not-it' });
    expect(wrong.status).toBe(502);
    expect(wrong.body).toMatchObject({ Code: -1 });
    expect(wrong.text).not.toContain('not-it');
  });

  it('lists Huayun regions; without an address Ferry says which field it needs', async () => {
    const regions = await call({ Action: 'ListRegion', AccessKey: 'ferry-ak', SecretKey: 'ferry-sk', CloudAddr: huayun.url, isEncrypted: 'False' });
    expect(regions.body.Code).toBe(0);
    expect(regions.body.Data).toContainEqual({ Name: '苏州', ID: 'cn-suzhou1' });
    const nowhere = await call({ Action: 'ListRegion', AccessKey: 'ferry-ak', SecretKey: 'ferry-sk' });
    expect(nowhere.status).toBe(400);
    expect(nowhere.body.Msg).toBe('CloudAddr is required.');
  });

  it('keeps Huayun and CloudUltra 4 connections and serves their look-ups', async () => {
    const hy = await call({ Action: 'AddCloudConnection', CloudName: '华云-苏州', CloudType: 'Huayun', ProjectName: 'None', CloudUser: 'ferry-ak', CloudPass: 'ferry-sk', CloudAddr: huayun.url, RegionId: 'cn-suzhou1', RegionName: '苏州' });
    expect(hy.body).toMatchObject({ Code: true });
    const flavors = await call({ Action: 'ListFlavors', Id: hy.body.Data.ID }, '/MgmtTask');
    expect(flavors.body.Flavors.length).toBeGreaterThan(100); // more than one page of the cloud's answer
    expect(flavors.body.Flavors.every((f: { Name: string; ID: string }) => f.Name === f.ID)).toBe(true);

    const projects = await call({ Action: 'ListProject', ...cu4Keys() });
    const owner = projects.body.Data.find((p: { Name: string }) => p.Name === 'cmigrate').ID;
    const zones = await call({ Action: 'ListZone', ...cu4Keys(), EnvironmentId: '1', OwnerId: owner });
    const zone = zones.body.Data.find((z: { Name: string }) => z.Name === 'DC-Shanghai-A');
    const cu = await call({ Action: 'AddCloudConnection', CloudName: 'cu4-a', CloudType: 'CloudUltra 4', ProjectName: 'cmigrate', CloudUser: 'ferry-ak', CloudPass: 'ferry-sk', CloudAddr: `${cu4.url}/api`, OwnerId: owner, EnvironmentId: '1', ZoneId: zone.ID, ZoneName: zone.Name });
    expect(cu.body).toMatchObject({ Code: true });
    const networks = await call({ Action: 'ListNetworks', Id: cu.body.Data.ID }, '/MgmtTask');
    expect(networks.body.Networks.length).toBeGreaterThan(0);
    expect(networks.body.Networks[0].Subnets.length).toBeGreaterThan(0);
    const quota = await call({ Action: 'ListQuota', Id: cu.body.Data.ID }, '/MgmtTask');
    expect(quota.body.Code).toBe(0);
    expect(quota.body.Data.CPU).toBeGreaterThan(0);

    const listed = await call({ Action: 'ListCloudConnection' });
    expect(listed.body.Data.map((c: { Name: string; CloudType: string; CloudPass: string }) => [c.Name, c.CloudType, c.CloudPass])).toEqual([
      ['华云-苏州', 'Huayun', '******'],
      ['cu4-a', 'CloudUltra 4', '******'],
    ]);
  });

  it('answers the same look-ups through GraphQL, with errors naming the input field and never the secret key', async () => {
    const keys = (fields: Partial<CloudKeysInput> = {}): CloudKeysInput => ({ kind: 'CLOUD_ULTRA_4', address: `${cu4.url}/api`, accessKey: 'ferry-ak', secretKey: 'ferry-sk', ...fields });
    const dir = await graphql(t.url, CloudDirectoryDocument, { keys: keys(), hypervisorType: 'vmware' }, token);
    expect(dir.errors).toBeUndefined();
    expect(dir.data?.cloudDirectory.projects.map((p) => p.name)).toEqual(expect.arrayContaining(['cmigrate', 'lipf_test']));
    expect(dir.data?.cloudDirectory.environments.map((e) => e.name)).toEqual(['VMware']);
    const owner = dir.data!.cloudDirectory.projects.find((p) => p.name === 'cmigrate')!.refId;
    const zones = await graphql(t.url, CloudZonesDocument, { keys: keys(), ownerId: owner, environmentId: '1' }, token);
    expect(zones.data?.cloudDirectory.zones.map((z) => z.name).sort()).toEqual(['DC-Shanghai-A', 'DC-Shanghai-B']);
    const regions = await graphql(t.url, CloudRegionsDocument, { keys: keys({ kind: 'HUAYUN', address: huayun.url }) }, token);
    expect(regions.data?.cloudDirectory.regions).toContainEqual({ refId: 'cn-suzhou1', name: '苏州' });

    const wrong = await graphql(t.url, CloudDirectoryDocument, { keys: keys({ secretKey: 'not-this-one' }) }, token);
    expect(wrong.data).toBeNull();
    expect(wrong.errors?.[0]).toMatchObject({ message: expect.stringMatching(/list projects/), extensions: { code: 'CLOUD_ERROR' } });
    expect(JSON.stringify(wrong)).not.toContain('not-this-one');
    const nowhere = await graphql(t.url, CloudRegionsDocument, { keys: keys({ kind: 'HUAYUN', address: '' }) }, token);
    expect(nowhere.errors?.[0]).toMatchObject({ message: 'CloudAddr is required.', extensions: { code: 'INVALID_INPUT', field: 'address' } });
    expect((await graphql(t.url, CloudRegionsDocument, { keys: keys() })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
