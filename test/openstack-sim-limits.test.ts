import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openstackOperator, type OpenStackOperator } from './support/openstack-client.js';
import { spawnSimulator, type SimulatorProcess } from './support/simulator.js';
import { until } from './support/wait.js';

/** The limits an operator sets on the simulated cloud, as Nova and Cinder take and enforce them. */
describe('ferry sim openstack: quota updates and the compute host size', () => {
  let sim: SimulatorProcess;
  let cloud: OpenStackOperator;
  let networkId: string;

  beforeAll(async () => {
    sim = await spawnSimulator('openstack', ['--host-vcpus', '3']);
    cloud = await openstackOperator(sim.url);
    const nets = (await fetch(`${sim.url}/network/v2.0/networks`, { headers: { 'x-auth-token': await token() } }).then((r) => r.json())) as { networks: { id: string; subnets: string[]; 'router:external': boolean }[] };
    networkId = nets.networks.find((n) => n.subnets.length > 0 && !n['router:external'])!.id;
  });
  afterAll(async () => {
    await sim?.stop();
  });

  async function token(): Promise<string> {
    const auth = { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'secret' } } }, scope: { project: { name: 'demo', domain: { name: 'Default' } } } };
    const r = await fetch(`${sim.url}/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth }) });
    return r.headers.get('x-subject-token')!;
  }

  it('Cinder: PUT os-quota-sets sets limits that volume creation then meets (413)', async () => {
    const set = await cloud.volume('PUT', `/os-quota-sets/${cloud.projectId}`, { quota_set: { volumes: 1, snapshots: '0' } });
    expect(set.status).toBe(200);
    expect(set.body.quota_set).toMatchObject({ volumes: 1, snapshots: 0, gigabytes: 1000 });
    expect((await cloud.volume('GET', `/os-quota-sets/${cloud.projectId}`)).body.quota_set).toMatchObject({ volumes: 1, snapshots: 0 });

    const first = await cloud.volume('POST', '/volumes', { volume: { size: 1, name: 'one' } });
    expect(first.status).toBe(202);
    const second = await cloud.volume('POST', '/volumes', { volume: { size: 1, name: 'two' } });
    expect(second.status).toBe(413);
    expect(second.body.overLimit.message).toBe("VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes'.");
    await until(async () => (await cloud.volume('GET', `/volumes/${first.body.volume.id}`)).body.volume.status === 'available');
    const snapshot = await cloud.volume('POST', '/snapshots', { snapshot: { volume_id: first.body.volume.id, name: 's' } });
    expect(snapshot.status).toBe(413);
    expect(JSON.stringify(snapshot.body)).toMatch(/SnapshotLimitExceeded/);
  });

  it('Cinder and Nova refuse unknown keys, values under -1 and limits under what is in use, and change nothing', async () => {
    const cases: [typeof cloud.volume, string, unknown, RegExp][] = [
      [cloud.volume, 'volume', { volumes: 5, colour: 1 }, /^Bad key\(s\) in quota set: colour$/],
      [cloud.volume, 'volume', { volumes: -2 }, /must be an integer greater than or equal to -1/],
      [cloud.volume, 'volume', { volumes: 0 }, /^Quota limit 0 for volumes must be greater than or equal to already used and reserved 1\.$/],
      [cloud.compute, 'compute', { cores: 'many' }, /^Invalid input for field\/attribute cores/],
      [cloud.compute, 'compute', { wings: 2 }, /^Additional properties are not allowed \('wings' was unexpected\)$/],
      [cloud.compute, 'compute', { instances: 0 }, /^Quota limit 0 for instances must be greater than or equal to already used and reserved 1\.$/],
    ];
    for (const [call, service, quota_set, message] of cases) {
      const r = await call('PUT', `/os-quota-sets/${cloud.projectId}`, { quota_set });
      expect(r.status, JSON.stringify(quota_set)).toBe(400);
      expect(JSON.stringify(r.body), `${service} ${JSON.stringify(quota_set)}`).toMatch(new RegExp(message.source.replace(/^\^/, '').replace(/\$$/, '')));
    }
    expect((await cloud.volume('GET', `/os-quota-sets/${cloud.projectId}`)).body.quota_set).toMatchObject({ volumes: 1 });
    expect((await cloud.compute('GET', `/os-quota-sets/${cloud.projectId}`)).body.quota_set).toMatchObject({ cores: 20, instances: 10 });

    const forced = await cloud.compute('PUT', `/os-quota-sets/${cloud.projectId}`, { quota_set: { instances: 0, force: true } });
    expect(forced.status).toBe(200);
    expect(forced.body.quota_set).toMatchObject({ instances: 0 });
    const reset = await cloud.compute('PUT', `/os-quota-sets/${cloud.projectId}`, { quota_set: { instances: 10 } });
    expect(reset.body.quota_set).toMatchObject({ instances: 10, cores: 20 });
  });

  it('a build that does not fit the compute host goes to ERROR with NoValidHost; it fits once room is made', async () => {
    await cloud.setVolumeQuota({ volumes: 10, snapshots: 10 });
    const small = await cloud.bootServer('small', '3', networkId); // 2 vCPUs + the transport's 1 = 3 of 3
    const big = await cloud.volume('POST', '/volumes', { volume: { size: 1, name: 'big-root' } });
    await until(async () => (await cloud.volume('GET', `/volumes/${big.body.volume.id}`)).body.volume.status === 'available');
    const server = { name: 'big', flavorRef: '3', networks: [{ uuid: networkId }], block_device_mapping_v2: [{ boot_index: 0, uuid: big.body.volume.id, source_type: 'volume', destination_type: 'volume' }] };
    const booted = await cloud.compute('POST', '/servers', { server });
    expect(booted.status).toBe(202);
    await until(async () => (await cloud.compute('GET', `/servers/${booted.body.server.id}`)).body.server.status !== 'BUILD');
    const failed = (await cloud.compute('GET', `/servers/${booted.body.server.id}`)).body.server;
    expect(failed).toMatchObject({ status: 'ERROR', fault: { code: 500, message: 'No valid host was found. There are not enough hosts available.' } });
    // the failed build gave its volume back
    expect((await cloud.volume('GET', `/volumes/${big.body.volume.id}`)).body.volume.status).toBe('available');

    expect((await cloud.compute('DELETE', `/servers/${small}`)).status).toBe(204);
    expect((await cloud.compute('DELETE', `/servers/${booted.body.server.id}`)).status).toBe(204);
    const again = await cloud.compute('POST', '/servers', { server: { ...server, name: 'big-2' } });
    await until(async () => (await cloud.compute('GET', `/servers/${again.body.server.id}`)).body.server.status !== 'BUILD');
    expect((await cloud.compute('GET', `/servers/${again.body.server.id}`)).body.server.status).toBe('ACTIVE');
  });
});
