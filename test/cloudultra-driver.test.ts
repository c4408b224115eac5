import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudError, type CloudUltraSettings } from '../src/drivers/cloud/cloud-driver.js';
import { CloudUltraDriver } from '../src/drivers/cloud/cloudultra/cloudultra-driver.js';
import { computeSignature, signRequest } from '../src/drivers/cloud/signed-api/signature.js';
import { freePort } from './support/ports.js';
import { spawnSimulator, type SimulatorProcess } from './support/simulator.js';
import { until } from './support/wait.js';
import { twinningProxy } from './support/twinning-proxy.js';

const GiB = 1024 ** 3;

describe('the CloudUltra 4 driver, against the CloudUltra simulator', () => {
  let sim: SimulatorProcess;
  let keys: CloudUltraSettings; // APIMgntURL and keys only, as ListProject gets them
  let settings: CloudUltraSettings; // project cmigrate, environment KVM, zone DC-Shanghai-A
  let transportId: string;
  let zoneB: string;
  let vmwareZone: string;
  const driver = (more: Partial<CloudUltraSettings> = {}, timeoutMs?: number) => new CloudUltraDriver({ ...settings, ...more }, { cloudName: 'cu4', timeoutMs });
  const refusal = async (call: Promise<unknown>): Promise<CloudError> => {
    const err = await call.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    return err as CloudError;
  };

  beforeAll(async () => {
    sim = await spawnSimulator('cloudultra');
    keys = { kind: 'cloudultra', apiUrl: `${sim.url}/api`, accessKey: 'ferry-ak', secretKey: 'ferry-sk' };
    // the user's path through the legacy UI: ListProject, ListEnvironment, ListZone
    const anonymous = new CloudUltraDriver(keys, { cloudName: 'cu4' });
    const owner = (await anonymous.projects()).find((p) => p.name === 'cmigrate')!;
    const kvm = (await anonymous.environments()).find((e) => e.name === 'KVM')!;
    const zones = await new CloudUltraDriver({ ...keys, ownerId: owner.id }, { cloudName: 'cu4' }).zones();
    const zoneId = (name: string) => zones.find((z) => z.name === name)!.id;
    settings = { ...keys, ownerId: owner.id, environmentId: kvm.id, zoneId: zoneId('DC-Shanghai-A') };
    [zoneB, vmwareZone] = [zoneId('DC-Shanghai-B'), zoneId('DC-VMware')];
    transportId = /ferry-transport server (\S+)/.exec(sim.output())![1];
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('verifies the keys, the project and the zone, and refuses bad ones without showing the secret', async () => {
    await driver().verify();
    await new CloudUltraDriver(keys, { cloudName: 'cu4' }).verify(); // keys alone
    expect(driver().type).toBe('CloudUltra 4');

    const wrongSecret = 'Huayun#123-wrong';
    const bad = await refusal(driver({ secretKey: wrongSecret }).verify());
    expect(bad.kind).toBe('unauthorized');
    expect(bad.message).toMatch(/^cloud "cu4": check the AccessKey and SecretKey: 401 InvalidSignature: .*\(check the SecretKey of the connection\)$/);
    expect(bad.message).not.toContain(wrongSecret);
    const later = await refusal(driver({ secretKey: wrongSecret }).createVolume({ name: 'x', sizeGiB: 1 }));
    expect(later.message).toMatch(/^cloud "cu4": create volume x: 401/);
    expect(later.message).not.toContain(wrongSecret);

    const finance = /project \(owner\) finance (\S+)/.exec(sim.output())![1];
    const foreign = await refusal(driver({ ownerId: finance }).verify());
    expect(foreign.kind).toBe('forbidden');
    expect(foreign.message).toBe(`cloud "cu4": list zones: 403 AccessDenied: this AccessKey may not use project (owner) ${finance}`);
    expect((await refusal(driver({ ownerId: '00000000-0000-4000-8000-000000000000' }).verify())).kind).toBe('not-found');
    const wrongEnvironment = await refusal(driver({ zoneId: vmwareZone }).verify());
    expect(wrongEnvironment.kind).toBe('not-found');
    expect(wrongEnvironment.message).toContain(`zone ${vmwareZone} is not among the zones of environment 1 for project`);

    const unscoped = await refusal(new CloudUltraDriver(keys, { cloudName: 'cu4' }).flavors());
    expect(unscoped.kind).toBe('bad-request');
    expect(unscoped.message).toContain('OwnerId');
  });

  it('lists projects, environments, zones, the catalog and the owner’s quota', async () => {
    const d = driver();
    expect((await d.projects()).map((p) => p.name)).toEqual(['cmigrate', 'lipf_test']); // not finance
    expect(await d.environments()).toEqual([{ id: '1', name: 'KVM' }, { id: '2', name: 'VMware' }]);
    expect((await d.zones()).map((z) => z.name)).toEqual(['DC-Shanghai-A', 'DC-Shanghai-B']); // KVM, open to cmigrate
    expect(await d.regions()).toEqual([]);

    const flavors = await d.flavors();
    expect(flavors.find((f) => f.name === 'c2m4')).toMatchObject({ vcpus: 2, ramMiB: 4096 });
    const net = (await d.networks()).find((n) => n.name === 'ferry-net')!;
    expect(net.subnets.map((s) => s.cidr)).toEqual(['10.10.1.0/24', '10.10.2.0/24']);
    expect((await d.securityGroups()).map((g) => g.name)).toEqual(['default', 'ssh-only']);
    const storages = await d.storages();
    expect(storages.map((s) => s.type)).toEqual(['ARSTOR', 'FCSAN', 'LOCAL']);
    const types = await d.volumeTypes();
    expect(types.map((t) => t.name)).toEqual(['Capacity', 'Performance', 'Local']);
    expect(types[0].backend).toBe(storages.find((s) => s.type === 'ARSTOR')!.id);

    const quota = await d.quota();
    expect(quota.instances).toEqual({ limit: 10, used: 1 }); // ferry-transport
    expect(quota.ramMiB).toEqual({ limit: 81_920, used: 8192 });
    expect(quota.volumeGiB).toEqual({ limit: 2048, used: 40 });
  });

  it('creates a volume, attaches it to ferry-transport as a file of its size, snapshots it, detaches and deletes it', async () => {
    const d = driver();
    const performance = (await d.volumeTypes()).find((t) => t.name === 'Performance')!;
    expect(await d.volumeNameTaken('ferry-1-disk0')).toBe(false);
    const volume = await d.createVolume({ name: 'ferry-1-disk0', sizeGiB: 3, volumeTypeId: performance.id, bootable: true });
    expect(volume).toMatchObject({ name: 'ferry-1-disk0', sizeGiB: 3, status: 'creating', volumeTypeId: performance.id, bootable: true });
    await until(async () => (await d.getVolume(volume.id)).status === 'available');
    expect(await d.volumeNameTaken('ferry-1-disk0')).toBe(true);
    expect(await d.findVolume('ferry-1-disk0')).toMatchObject({ id: volume.id, name: 'ferry-1-disk0', bootable: true });
    expect(await d.findVolume('ferry-1-disk9')).toBeNull();
    expect(await d.findVolume('ferry-1-disk')).toBeNull(); // a prefix: the match is exact
    expect(await d.findVolume('1-disk0')).toBeNull();
    expect(await driver({ zoneId: zoneB }).findVolume('ferry-1-disk0')).toBeNull(); // another zone
    expect(await driver({ zoneId: zoneB }).volumeNameTaken('ferry-1-disk0')).toBe(false); // another zone
    expect((await d.quota()).volumeGiB.used).toBe(40 + 3);
    expect((await d.storages()).find((s) => s.type === 'FCSAN')!.freeGiB).toBe(51_200 - 3);
    expect((await refusal(d.createVolume({ name: 'ferry-1-disk0', sizeGiB: 1 }))).kind).toBe('conflict');

    const attachment = await d.attachVolume(transportId, volume.id);
    expect(path.isAbsolute(attachment.device)).toBe(true);
    expect((await stat(attachment.device)).size).toBe(3 * GiB);
    expect(await d.getVolume(volume.id)).toMatchObject({ status: 'in-use', attachedTo: [transportId] });
    expect((await refusal(driver({ zoneId: zoneB }).attachVolume(transportId, volume.id))).kind).toBe('not-found'); // not in that zone

    const snapshot = await d.createSnapshot(volume.id, 'ferry-1-disk0-snap1');
    await until(async () => (await d.getSnapshot(snapshot.id)).status === 'available');
    expect(await d.findSnapshot('ferry-1-disk0-snap1')).toMatchObject({ id: snapshot.id, volumeId: volume.id, status: 'available' });
    expect(await d.findSnapshot('ferry-1-disk0-snap9')).toBeNull();
    expect(await d.findSnapshot('ferry-1-disk0-snap')).toBeNull(); // a prefix: the match is exact
    expect(await d.findSnapshot('ferry-1-disk0')).toBeNull(); // the volume's name, a prefix of the snapshot's
    expect(await driver({ zoneId: zoneB }).findSnapshot('ferry-1-disk0-snap1')).toBeNull(); // another zone
    expect(await d.getSnapshot(snapshot.id)).toMatchObject({ volumeId: volume.id, sizeGiB: 3, name: 'ferry-1-disk0-snap1' });

    const attached = await refusal(d.deleteVolume(volume.id));
    expect(attached.kind).toBe('conflict');
    expect(attached.message).toBe(`cloud "cu4": delete volume ${volume.id}: 409 Conflict: volume ${volume.id} is attached to server ${transportId}: detach it first`);
    await d.detachVolume(transportId, volume.id);
    expect((await refusal(d.detachVolume(transportId, volume.id))).kind).toBe('not-found'); // no longer attached
    await d.deleteSnapshot(snapshot.id);
    await d.deleteVolume(volume.id);
    await d.deleteVolume(volume.id); // already gone
    await expect(stat(attachment.device)).rejects.toThrow(/ENOENT/);
  });

  it('boots a server of a custom size from a written disk (ACTIVE), not from an empty one (ERROR); refuses a taken name and a fixed IP in use', async () => {
    const d = driver();
    const net = (await d.networks()).find((n) => n.name === 'ferry-net')!;
    const backup = net.subnets.find((s) => s.name === 'backup-subnet')!;
    expect(await d.fixedIpsInUse(net.id)).toEqual(['10.10.1.1', '10.10.1.10', '10.10.2.1']);
    expect(await d.serverNameTaken('ferry-transport')).toBe(true);
    expect(await d.serverNameTaken('mig-1')).toBe(false);

    const disk = await readyVolume('mig-1-disk0');
    const { device } = await d.attachVolume(transportId, disk);
    const file = await open(device, 'r+');
    await file.write(Buffer.from([0x55, 0xaa]), 0, 2, 510); // what a migrated boot disk starts with
    await file.close();
    await d.detachVolume(transportId, disk);

    const server = await d.createServer({ name: 'mig-1', vcpus: 3, ramMiB: 3072, volumeIds: [disk], networkId: net.id, subnetId: backup.id, fixedIp: '10.10.2.50' });
    expect(server).toMatchObject({ status: 'BUILD', addresses: { 'ferry-net': ['10.10.2.50'] } });
    await until(async () => (await d.getServer(server.id)).status === 'ACTIVE');
    expect(await d.serverNameTaken('mig-1')).toBe(true);
    expect(await d.fixedIpsInUse(net.id)).toContain('10.10.2.50');
    expect((await d.quota()).cores.used).toBe(4 + 3);

    const spare = await readyVolume('mig-2-disk0');
    const ipTaken = await refusal(d.createServer({ name: 'mig-2', vcpus: 1, ramMiB: 1024, volumeIds: [spare], networkId: net.id, subnetId: backup.id, fixedIp: '10.10.2.50' }));
    expect(ipTaken.kind).toBe('conflict');
    expect(ipTaken.message).toContain('create server mig-2: 409 Conflict: IP 10.10.2.50 is already in use');
    expect((await refusal(d.createServer({ name: 'mig-1', vcpus: 1, ramMiB: 1024, volumeIds: [spare], networkId: net.id }))).kind).toBe('conflict');
    const odd = await refusal(d.createServer({ name: 'mig-2', vcpus: 1, ramMiB: 1000, volumeIds: [spare], networkId: net.id }));
    expect(odd.kind).toBe('bad-request');
    expect(odd.message).toContain('400 InvalidParameter: MemoryMiB');

    const empty = await d.createServer({ name: 'mig-2', flavorId: (await d.flavors())[0].id, volumeIds: [spare], networkId: net.id });
    await until(async () => (await d.getServer(empty.id)).status === 'ERROR');
    expect((await d.getServer(empty.id)).fault).toMatch(/^NoBootableDevice: /);
  });

  it('finds a server by its exact name, calls two of one name a conflict, and deletes it, twice without failing', async () => {
    const d = driver();
    const net = (await d.networks()).find((n) => n.name === 'ferry-net')!;
    const disk = await readyVolume('mig-7-disk0');
    // never written: the server goes to ERROR, as a migrated server may
    const boot = () => d.createServer({ name: 'mig-7', vcpus: 1, ramMiB: 1024, volumeIds: [disk], networkId: net.id, fixedIp: '10.10.1.70' });
    const server = await boot();
    expect(await d.findServer('mig-7')).toMatchObject({ id: server.id, name: 'mig-7' });
    for (const other of ['mig-', 'ig-7', 'mig-.', '^mig-7$', 'MIG-7']) expect(await d.findServer(other)).toBeNull();
    expect(await driver({ zoneId: zoneB }).findServer('mig-7')).toBeNull(); // another zone's servers are not the project's here

    const proxy = await twinningProxy(sim.url, 'mig-7');
    try {
      const twins = await refusal(driver({ apiUrl: `${proxy.url}/api` }).findServer('mig-7'));
      expect(twins.kind).toBe('conflict');
      expect(twins.message).toBe(`cloud "cu4": find server mig-7: 2 servers are named mig-7: ${server.id}, ${server.id}-twin`);
    } finally {
      proxy.close();
    }

    await until(async () => (await d.getServer(server.id)).status === 'ERROR');
    await d.deleteServer(server.id);
    expect((await refusal(d.getServer(server.id))).kind).toBe('not-found');
    expect(await d.findServer('mig-7')).toBeNull();
    expect(await d.getVolume(disk)).toMatchObject({ status: 'available', attachedTo: [] });
    expect(await d.fixedIpsInUse(net.id)).not.toContain('10.10.1.70');
    await d.deleteServer(server.id); // already gone: nothing to do

    const again = await boot(); // ContinueTask: the same name, volume and fixed IP
    await d.deleteServer(again.id);
    await d.deleteVolume(disk);
  });

  it('turns the quota code into an over-quota refusal', async () => {
    const err = await refusal(driver().createVolume({ name: 'huge', sizeGiB: 5000 }));
    expect(err.kind).toBe('over-quota');
    expect(err.message).toMatch(/^cloud "cu4": create volume huge: 403 QuotaExceeded: /);
  });

  it('says a dead APIMgntURL is unreachable and a slow one timed out, in bounded time', async () => {
    const deadPort = await freePort();
    const dead = await refusal(driver({ apiUrl: `http://127.0.0.1:${deadPort}/api` }).projects());
    expect(dead.kind).toBe('unreachable');
    expect(dead.message).toContain(`list projects: cannot reach http://127.0.0.1:${deadPort}: ECONNREFUSED`);

    const slow = await spawnSimulator('cloudultra', ['--latency-ms', '3000']);
    try {
      const started = Date.now();
      const err = await refusal(new CloudUltraDriver({ ...keys, apiUrl: `${slow.url}/api` }, { cloudName: 'slow', timeoutMs: 400 }).projects());
      expect(err.kind).toBe('timeout');
      expect(err.message).toBe(`cloud "slow": list projects: no answer from ${slow.url} within 0.4 s`);
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      await slow.stop();
    }
  });

  it('the simulator refuses a tampered, replayed or stale signature, and malformed input, in the contract’s error format', async () => {
    // the worked example of docs/clouds/cloudultra.md
    const example = { method: 'GET', path: '/api/v4/volumes', query: [['ZoneId', 'z 1'], ['OwnerId', 'o+1'], ['Name', 'ferry-1-disk0'], ['PageSize', '100'], ['PageNumber', '1']] as [string, string][], date: '20261129T120000Z', nonce: 'fedcba9876543210fedcba9876543210', body: '' };
    expect(computeSignature('ferry-sk', example)).toBe('e0be1c561794cf703e7b8e238d79d54532e2b0d7a82038101313e0f95ae1d01a');

    const scope: [string, string][] = [['OwnerId', settings.ownerId!], ['ZoneId', settings.zoneId!]];
    const url = `${sim.url}/api/v4/quota?OwnerId=${settings.ownerId}&ZoneId=${settings.zoneId}`;
    const signed = signRequest('ferry-ak', 'ferry-sk', { method: 'GET', path: '/api/v4/quota', query: scope, body: '' });
    expect((await fetch(url, { headers: signed })).status).toBe(200);
    expect(await answer(await fetch(url, { headers: signed }))).toMatchObject({ status: 401, code: 'NonceReused' });
    const otherZone = signRequest('ferry-ak', 'ferry-sk', { method: 'GET', path: '/api/v4/quota', query: scope, body: '' });
    expect(await answer(await fetch(url.replace(settings.zoneId!, zoneB), { headers: otherZone }))).toMatchObject({ status: 401, code: 'InvalidSignature' });
    const otherPath = signRequest('ferry-ak', 'ferry-sk', { method: 'GET', path: '/v4/quota', query: scope, body: '' }); // without the APIMgntURL's /api
    expect(await answer(await fetch(url, { headers: otherPath }))).toMatchObject({ status: 401, code: 'InvalidSignature' });
    const future = signRequest('ferry-ak', 'ferry-sk', { method: 'GET', path: '/api/v4/quota', query: scope, body: '' }, new Date(Date.now() + 6 * 60_000));
    expect(await answer(await fetch(url, { headers: future }))).toMatchObject({ status: 401, code: 'SignatureExpired' });
    const strangerKey = signRequest('someone', 'ferry-sk', { method: 'GET', path: '/api/v4/quota', query: scope, body: '' });
    expect(await answer(await fetch(url, { headers: strangerKey }))).toMatchObject({ status: 401, code: 'InvalidAccessKey' });

    const volumes = `${sim.url}/api/v4/volumes?OwnerId=${settings.ownerId}&ZoneId=${settings.zoneId}`;
    const post = (sent: string, signedBody = sent) =>
      fetch(volumes, { method: 'POST', headers: { ...signRequest('ferry-ak', 'ferry-sk', { method: 'POST', path: '/api/v4/volumes', query: scope, body: signedBody }), 'content-type': 'application/json' }, body: sent });
    expect(await answer(await post('{"Name":"x","SizeGiB":2000}', '{"Name":"x","SizeGiB":1}'))).toMatchObject({ status: 401, code: 'InvalidSignature' });
    for (const malformed of ['not json', '{"Name":"","SizeGiB":1}', '{"Name":"x","SizeGiB":0}', '{"Name":"x"}', 'null']) {
      expect(await answer(await post(malformed))).toMatchObject({ status: 400, code: 'InvalidParameter' });
    }
    await driver().verify(); // still serving
  });

  async function answer(res: Response): Promise<{ status: number; code?: string }> {
    const body = (await res.json()) as { code?: string; message?: string; requestId?: string };
    if (res.status >= 400) {
      expect(body.requestId).toMatch(/^req-/);
      expect(body.message).toBeTruthy();
    }
    return { status: res.status, code: body.code };
  }

  async function readyVolume(name: string): Promise<string> {
    const d = driver();
    const { id } = await d.createVolume({ name, sizeGiB: 1, bootable: true });
    await until(async () => (await d.getVolume(id)).status === 'available');
    return id;
  }
});
