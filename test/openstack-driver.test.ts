import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudError, type OpenStackSettings } from '../src/drivers/cloud/cloud-driver.js';
import { OpenStackDriver } from '../src/drivers/cloud/openstack/openstack-driver.js';
import { openstackOperator } from './support/openstack-client.js';
import { freePort } from './support/ports.js';
import { spawnSimulator, type SimulatorProcess } from './support/simulator.js';
import { sleep, until } from './support/wait.js';

const GiB = 1024 ** 3;

describe('the OpenStack driver, against the OpenStack simulator', () => {
  let sim: SimulatorProcess;
  let settings: OpenStackSettings;
  const driver = (more: Partial<OpenStackSettings> = {}, timeoutMs?: number) => new OpenStackDriver({ ...settings, ...more }, { cloudName: 'sim', timeoutMs });
  const refusal = async (call: Promise<unknown>): Promise<CloudError> => {
    const err = await call.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    return err as CloudError;
  };

  beforeAll(async () => {
    // tokens live 3 s, so a session outlives several of them
    sim = await spawnSimulator('openstack', ['--token-ttl', '3']);
    settings = { kind: 'openstack', protocol: 'http', host: '127.0.0.1', port: sim.port, user: 'admin', password: 'secret', project: 'demo', domain: 'Default' };
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('keeps working across token expiries in one session', async () => {
    const d = driver();
    await d.verify();
    const before = await d.flavors();
    await sleep(3_500); // the first token has expired by now
    expect(await d.flavors()).toEqual(before);
    await sleep(3_500);
    expect((await d.networks()).length).toBeGreaterThan(0);
  });

  it('names the cloud and the call in every refusal, without the password', async () => {
    const bad = await refusal(driver({ password: 'wrong-secret' }).verify());
    expect(bad.kind).toBe('unauthorized');
    expect(bad.message).toMatch(/^cloud "sim": authenticate \(Keystone POST \/v3\/auth\/tokens\): 401/);
    expect(bad.message).not.toContain('wrong-secret');
    expect((await refusal(driver({ project: 'no-such-project' }).verify())).kind).toBe('unauthorized');
    const deadPort = await freePort();
    const dead = await refusal(driver({ port: deadPort }).flavors());
    expect(dead.kind).toBe('unreachable');
    expect(dead.message).toContain(`cannot reach http://127.0.0.1:${deadPort}`);
    expect((await refusal(driver().getVolume('00000000-0000-4000-8000-000000000000'))).kind).toBe('not-found');
  });

  it('never hangs on a slow cloud: the call times out with a clear message', async () => {
    const slow = await spawnSimulator('openstack', ['--latency-ms', '3000']);
    try {
      const started = Date.now();
      const err = await refusal(new OpenStackDriver({ ...settings, port: slow.port }, { cloudName: 'slow', timeoutMs: 500 }).verify());
      expect(err.kind).toBe('timeout');
      expect(err.message).toBe('cloud "slow": authenticate (Keystone POST /v3/auth/tokens): no answer within 0.5 s');
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      await slow.stop();
    }
  });

  it('creates, attaches, snapshots and deletes volumes; the attached device is the volume’s file', async () => {
    const d = driver();
    const quotaBefore = await d.quota();
    const transport = (await fetchServers()).find((s) => s.name === 'ferry-transport')!;
    expect(transport).toBeTruthy();
    expect(await d.volumeNameTaken('ferry-task-disk0')).toBe(false);
    const volume = await d.createVolume({ name: 'ferry-task-disk0', sizeGiB: 2, volumeTypeId: (await d.volumeTypes()).find((t) => t.name === 'ssd')!.id, bootable: true });
    expect(volume).toMatchObject({ name: 'ferry-task-disk0', sizeGiB: 2, status: 'available', bootable: true });
    expect(await d.volumeNameTaken('ferry-task-disk0')).toBe(true);
    expect(await d.findVolume('ferry-task-disk0')).toMatchObject({ id: volume.id, name: 'ferry-task-disk0', sizeGiB: 2, bootable: true });
    expect(await d.findVolume('ferry-task-disk9')).toBeNull();
    expect(await d.findVolume('ferry-task-disk')).toBeNull(); // a prefix: the match is exact
    expect(await d.findVolume('task-disk0')).toBeNull();
    expect((await d.quota()).volumeGiB.used).toBe(quotaBefore.volumeGiB.used + 2);

    const attachment = await d.attachVolume(transport.id, volume.id);
    expect((await stat(attachment.device)).size).toBe(2 * GiB);
    await until(async () => (await d.getVolume(volume.id)).status === 'in-use');
    expect((await d.getVolume(volume.id)).attachedTo).toEqual([transport.id]);

    const snapshot = await d.createSnapshot(volume.id, 'ferry-task-snap1');
    expect(snapshot).toMatchObject({ volumeId: volume.id, name: 'ferry-task-snap1', sizeGiB: 2 });
    await until(async () => (await d.getSnapshot(snapshot.id)).status === 'available');
    expect(await d.findSnapshot('ferry-task-snap1')).toMatchObject({ id: snapshot.id, volumeId: volume.id, status: 'available' });
    expect(await d.findSnapshot('ferry-task-snap9')).toBeNull();
    expect(await d.findSnapshot('ferry-task-snap')).toBeNull(); // a prefix: the match is exact
    expect(await d.findSnapshot('ferry-task-disk0')).toBeNull(); // a volume's name, not a snapshot's
    expect((await refusal(d.deleteVolume(volume.id))).kind).toBe('bad-request'); // in use
    await d.deleteSnapshot(snapshot.id);
    await d.detachVolume(transport.id, volume.id);
    await until(async () => (await d.getVolume(volume.id)).status === 'available');
    await until(async () => (await d.getSnapshot(snapshot.id).then(() => 'there', () => 'gone')) === 'gone');
    await d.deleteVolume(volume.id);
    await d.deleteVolume(volume.id); // already gone: nothing to do
    await until(async () => !(await d.volumeNameTaken('ferry-task-disk0')));
    expect(await d.findVolume('ferry-task-disk0')).toBeNull();
  });

  it('finds a volume by its exact name, and calls two of the same name a conflict', async () => {
    const d = driver();
    const [a, b] = [await d.createVolume({ name: 'ferry-twin', sizeGiB: 1 }), await d.createVolume({ name: 'ferry-twin', sizeGiB: 1 })];
    const twins = await refusal(d.findVolume('ferry-twin'));
    expect(twins.kind).toBe('conflict');
    expect(twins.message).toMatch(/^cloud "sim": find volume ferry-twin \(Cinder GET \/volumes\/detail\): 2 volumes are named ferry-twin: /);
    expect(twins.message).toContain(a.id);
    expect(twins.message).toContain(b.id);
    await until(async () => (await d.getVolume(b.id)).status === 'available');
    await d.deleteVolume(b.id);
    await until(async () => (await d.findVolume('ferry-twin').catch(() => null))?.id === a.id);
    await until(async () => (await d.getVolume(a.id)).status === 'available');
    await d.deleteVolume(a.id);
  });

  it('boots a server from volumes with a flavor or with CPUs and memory, and refuses a fixed IP in use', async () => {
    const d = driver();
    const net = (await d.networks()).find((n) => n.name === 'private')!;
    const subnet = net.subnets.find((s) => s.cidr === '10.0.1.0/24')!;
    const group = (await d.securityGroups()).find((g) => g.name === 'web')!;
    const boot = await d.createVolume({ name: 'boot-disk', sizeGiB: 1, bootable: true });
    const data = await d.createVolume({ name: 'data-disk', sizeGiB: 1 });
    await until(async () => (await d.getVolume(data.id)).status === 'available');
    expect(await d.serverNameTaken('migrated-1')).toBe(false);
    const server = await d.createServer({ name: 'migrated-1', vcpus: 3, ramMiB: 3072, volumeIds: [boot.id, data.id], networkId: net.id, subnetId: subnet.id, fixedIp: '10.0.1.50', securityGroupId: group.id });
    expect(server.status).toBe('BUILD');
    expect(await d.serverNameTaken('migrated-1')).toBe(true);
    expect(await d.serverNameTaken('migrated')).toBe(false); // the name filter is exact, not a regex match
    await until(async () => (await d.getServer(server.id)).status === 'ACTIVE', 10_000);
    expect((await d.getServer(server.id)).addresses.private).toEqual(['10.0.1.50']);
    expect(await d.fixedIpsInUse(net.id)).toContain('10.0.1.50');
    expect((await d.flavors()).some((f) => f.vcpus === 3 && f.ramMiB === 3072)).toBe(true); // made for it

    const taken = await refusal(d.createServer({ name: 'migrated-2', flavorId: (await d.flavors())[0].id, volumeIds: [data.id], networkId: net.id, fixedIp: '10.0.1.50' }));
    expect(taken.kind).toBe('conflict');
    expect(taken.message).toMatch(/create a port for server migrated-2 \(Neutron POST \/v2\.0\/ports\): 409/);

    const spare = await d.createVolume({ name: 'boot-disk-2', sizeGiB: 1, bootable: true });
    const failing = await d.createServer({ name: 'fail-boot-1', flavorId: (await d.flavors())[0].id, volumeIds: [spare.id], networkId: net.id });
    await until(async () => (await d.getServer(failing.id)).status === 'ERROR', 10_000);
    expect((await d.getServer(failing.id)).fault).toBeTruthy();
  });

  it('finds a server by its exact name (escaped for Nova’s regular expression), calls two of one name a conflict, and deletes a server with its port', async () => {
    const d = driver();
    const net = (await d.networks()).find((n) => n.name === 'private')!;
    const flavorId = (await d.flavors())[0].id;
    const disk = await d.createVolume({ name: 'mig-7-disk0', sizeGiB: 1, bootable: true });
    // a build that fails, as a migrated server's may: Nova unbinds the port Ferry gave it, and keeps it
    const boot = () => d.createServer({ name: 'mig-7-fail-boot', flavorId, volumeIds: [disk.id], networkId: net.id, fixedIp: '10.0.0.61' });
    const failed = await boot();
    expect(await d.findServer('mig-7-fail-boot')).toMatchObject({ id: failed.id, name: 'mig-7-fail-boot' });
    await until(async () => (await d.getServer(failed.id)).status === 'ERROR', 10_000);
    expect(await d.findServer('mig-7-fail-boot')).toMatchObject({ id: failed.id, status: 'ERROR' });
    for (const other of ['mig-7-fail', 'ig-7-fail-boot', 'mig-.-fail-boot', 'mig-7-fail-boot|x', '.*']) expect(await d.findServer(other)).toBeNull();

    // Nova allows two servers of one name; this one is also a valid regular expression that does not match itself
    const twinName = 'mig (twin)+';
    const twins = [];
    for (const side of ['a', 'b']) {
      const twinDisk = await d.createVolume({ name: `twin-disk-${side}`, sizeGiB: 1, bootable: true });
      twins.push(await d.createServer({ name: twinName, flavorId, volumeIds: [twinDisk.id], networkId: net.id }));
    }
    const conflict = await refusal(d.findServer(twinName));
    expect(conflict.kind).toBe('conflict');
    expect(conflict.message).toBe(`cloud "sim": find server ${twinName} (Nova GET /servers/detail): 2 servers are named ${twinName}: ${twins[1].id}, ${twins[0].id}`);
    await d.deleteServer(twins[1].id);
    expect((await d.findServer(twinName))?.id).toBe(twins[0].id);
    await d.deleteServer(twins[0].id);
    expect(await d.findServer(twinName)).toBeNull();

    await d.deleteServer(failed.id);
    expect((await refusal(d.getServer(failed.id))).kind).toBe('not-found');
    expect(await d.findServer('mig-7-fail-boot')).toBeNull();
    expect(await d.fixedIpsInUse(net.id)).not.toContain('10.0.0.61'); // its unbound port went too
    expect((await d.getVolume(disk.id)).status).toBe('available');
    await d.deleteServer(failed.id); // already gone: nothing to do

    // ContinueTask boots it again: the same name, volume and fixed IP
    const again = await boot();
    expect(await d.fixedIpsInUse(net.id)).toContain('10.0.0.61');
    await d.deleteServer(again.id); // in BUILD, its port still bound
    expect(await d.fixedIpsInUse(net.id)).not.toContain('10.0.0.61');
    expect(await d.findServer('mig-7-fail-boot')).toBeNull();
  });

  it('boots over a port left by a boot that stopped between Neutron and Nova (its fixed IP is free again)', async () => {
    const d = driver();
    const net = (await d.networks()).find((n) => n.name === 'private')!;
    const cloud = await openstackOperator(sim.url);
    const left = await cloud.network('POST', '/ports', { port: { network_id: net.id, name: 'mig-8-port', fixed_ips: [{ ip_address: '10.0.0.62' }] } });
    expect(left.status).toBe(201);
    const disk = await d.createVolume({ name: 'mig-8-disk0', sizeGiB: 1, bootable: true });
    const server = await d.createServer({ name: 'mig-8', flavorId: (await d.flavors())[0].id, volumeIds: [disk.id], networkId: net.id, fixedIp: '10.0.0.62' });
    expect((await cloud.network('GET', `/ports/${left.body.port.id}`)).status).toBe(404);
    const ports = (await cloud.network('GET', '/ports?name=mig-8-port')).body.ports;
    expect(ports).toEqual([expect.objectContaining({ device_id: server.id, fixed_ips: [expect.objectContaining({ ip_address: '10.0.0.62' })] })]);
    await d.deleteServer(server.id);
  });

  it('turns the cloud’s over-quota answer into an over-quota refusal', async () => {
    const err = await refusal(driver().createVolume({ name: 'huge', sizeGiB: 5000 }));
    expect(err.kind).toBe('over-quota');
    expect(err.message).toMatch(/create volume huge \(Cinder POST \/volumes\): 413/);
  });

  /** The simulator's servers, read with a token of our own (the driver has no "list servers"). */
  async function fetchServers(): Promise<{ id: string; name: string }[]> {
    const auth = await fetch(`${sim.url}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'secret' } } }, scope: { project: { name: 'demo', domain: { name: 'Default' } } } } }),
    });
    const token = auth.headers.get('x-subject-token')!;
    const catalog = ((await auth.json()) as { token: { catalog: { type: string; endpoints: { interface: string; url: string }[] }[] } }).token.catalog;
    const nova = catalog.find((c) => c.type === 'compute')!.endpoints.find((e) => e.interface === 'public')!.url;
    const servers = await fetch(`${nova}/servers`, { headers: { 'x-auth-token': token } });
    return ((await servers.json()) as { servers: { id: string; name: string }[] }).servers;
  }
});
