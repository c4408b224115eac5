import { open, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudError, type HuayunSettings } from '../src/drivers/cloud/cloud-driver.js';
import { HuayunDriver } from '../src/drivers/cloud/huayun/huayun-driver.js';
import { computeSignature, signRequest } from '../src/drivers/cloud/signed-api/signature.js';
import { freePort } from './support/ports.js';
import { spawnSimulator, type SimulatorProcess } from './support/simulator.js';
import { until } from './support/wait.js';
import { twinningProxy } from './support/twinning-proxy.js';

const GiB = 1024 ** 3;

describe('the Huayun driver, against the Huayun simulator', () => {
  let sim: SimulatorProcess;
  let settings: HuayunSettings;
  let transportId: string;
  const driver = (more: Partial<HuayunSettings> = {}, timeoutMs?: number) => new HuayunDriver({ ...settings, ...more }, { cloudName: 'sim', timeoutMs });
  const refusal = async (call: Promise<unknown>): Promise<CloudError> => {
    const err = await call.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    return err as CloudError;
  };

  beforeAll(async () => {
    sim = await spawnSimulator('huayun');
    settings = { kind: 'huayun', endpoint: sim.url, accessKey: 'ferry-ak', secretKey: 'ferry-sk', regionId: 'cn-suzhou1' };
    transportId = /ferry-transport server (\S+)/.exec(sim.output())![1];
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('verifies good keys and refuses bad ones, a region it may not use and one that does not exist, never showing the secret', async () => {
    await driver().verify();
    expect(driver().type).toBe('Huayun');

    const wrongSecret = 'Wrong-Secret-4711';
    const bad = await refusal(driver({ secretKey: wrongSecret }).verify());
    expect(bad.kind).toBe('unauthorized');
    expect(bad.message).toMatch(/^cloud "sim": check the AccessKey and SecretKey: 401 InvalidSignature: .*\(check the SecretKey of the connection\)$/);
    expect(bad.message).not.toContain(wrongSecret);
    expect(JSON.stringify(bad)).not.toContain(wrongSecret);
    const later = await refusal(driver({ secretKey: wrongSecret }).flavors());
    expect(later.message).toMatch(/^cloud "sim": list flavors: 401/);
    expect(later.message).not.toContain(wrongSecret);

    const unknownKey = await refusal(driver({ accessKey: 'nobody' }).verify());
    expect(unknownKey.kind).toBe('unauthorized');
    expect(unknownKey.message).toContain('InvalidAccessKey: AccessKey "nobody" does not exist');

    const hongKong = await refusal(driver({ regionId: 'cn-hongkong1' }).verify());
    expect(hongKong.kind).toBe('forbidden');
    expect(hongKong.message).toBe('cloud "sim": check region cn-hongkong1: 403 AccessDenied: the account is not enabled in region cn-hongkong1');
    expect((await refusal(driver({ regionId: 'mars-1' }).verify())).kind).toBe('not-found');

    const noRegion = driver({ regionId: undefined });
    await noRegion.verify(); // keys alone
    expect((await noRegion.regions()).map((r) => r.id)).toEqual(['cn-suzhou1', 'cn-beijing1', 'cn-hongkong1']);
    const unscoped = await refusal(noRegion.flavors());
    expect(unscoped.kind).toBe('bad-request');
    expect(unscoped.message).toContain('RegionId');
  });

  it('lists regions, the catalog over several pages, and the quota with its usage', async () => {
    const d = driver();
    expect(await d.regions()).toContainEqual({ id: 'cn-suzhou1', name: '苏州' });
    expect([await d.projects(), await d.environments(), await d.zones()]).toEqual([[], [], []]);

    const flavors = await d.flavors();
    expect(flavors.length).toBe(104); // more than the 100 of one page
    expect(new Set(flavors.map((f) => f.id)).size).toBe(flavors.length);
    expect(flavors.every((f) => f.id === f.name)).toBe(true);
    expect(flavors).toContainEqual({ id: '2核4G_SERIES_STANDARD', name: '2核4G_SERIES_STANDARD', vcpus: 2, ramMiB: 4096, diskGiB: 40 });
    expect(flavors.map((f) => f.id)).toContain('64核1024G_SERIES_MEMORY'); // the last one, on page 2

    const vpc = (await d.networks()).find((n) => n.name === 'ferry-vpc')!;
    expect(vpc.subnets.map((s) => [s.name, s.cidr, s.gatewayIp, s.networkId])).toEqual([
      ['ferry-subnet-1', '192.168.1.0/24', '192.168.1.1', vpc.id],
      ['ferry-subnet-2', '192.168.2.0/24', '192.168.2.1', vpc.id],
    ]);
    expect(await d.routers()).toContainEqual(expect.objectContaining({ name: 'ferry-router', networkId: vpc.id, externalGateway: true }));
    expect((await d.securityGroups()).map((g) => g.name)).toEqual(['default', 'web']);
    expect(await d.volumeTypes()).toContainEqual({ id: 'ssd', name: 'SSD云盘', backend: 'st-ssd-01' });
    expect(await d.storages()).toContainEqual({ id: 'st-hdd-01', name: 'hdd-pool-01', type: 'HDD', totalGiB: 512_000, freeGiB: 512_000 });

    const quota = await d.quota();
    expect(quota.instances).toEqual({ limit: 20, used: 1 }); // ferry-transport
    expect(quota.cores).toEqual({ limit: 64, used: 4 });
    expect(quota.volumeGiB.used).toBeGreaterThanOrEqual(40);
  });

  it('creates a volume, attaches it to ferry-transport as a file of its size, snapshots it, detaches and deletes it', async () => {
    const d = driver();
    const before = await d.quota();
    const ssdFree = (await d.storages()).find((s) => s.id === 'st-ssd-01')!.freeGiB!;
    expect(await d.volumeNameTaken('ferry-1-disk0')).toBe(false);
    const volume = await d.createVolume({ name: 'ferry-1-disk0', sizeGiB: 2, volumeTypeId: 'ssd', bootable: true });
    expect(volume).toMatchObject({ name: 'ferry-1-disk0', sizeGiB: 2, status: 'creating', volumeTypeId: 'ssd', bootable: true, attachedTo: [] });
    await until(async () => (await d.getVolume(volume.id)).status === 'available');
    expect(await d.volumeNameTaken('ferry-1-disk0')).toBe(true);
    expect(await d.findVolume('ferry-1-disk0')).toMatchObject({ id: volume.id, name: 'ferry-1-disk0', bootable: true });
    expect(await d.findVolume('ferry-1-disk9')).toBeNull();
    expect(await d.findVolume('ferry-1-disk')).toBeNull(); // a prefix: the match is exact
    expect(await d.findVolume('1-disk0')).toBeNull();
    expect((await d.quota()).volumeGiB.used).toBe(before.volumeGiB.used + 2);
    expect((await d.storages()).find((s) => s.id === 'st-ssd-01')!.freeGiB).toBe(ssdFree - 2);

    const taken = await refusal(d.createVolume({ name: 'ferry-1-disk0', sizeGiB: 1 }));
    expect(taken.kind).toBe('conflict');
    expect(taken.message).toBe('cloud "sim": create volume ferry-1-disk0: 409 Conflict: a volume named ferry-1-disk0 already exists');

    const attachment = await d.attachVolume(transportId, volume.id);
    expect(attachment).toMatchObject({ serverId: transportId, volumeId: volume.id });
    expect(path.isAbsolute(attachment.device)).toBe(true);
    expect((await stat(attachment.device)).size).toBe(2 * GiB);
    expect(await d.getVolume(volume.id)).toMatchObject({ status: 'in-use', attachedTo: [transportId] });
    expect((await refusal(d.attachVolume(transportId, volume.id))).kind).toBe('conflict'); // already in use

    const snapshot = await d.createSnapshot(volume.id, 'ferry-1-disk0-snap1');
    expect(snapshot).toMatchObject({ name: 'ferry-1-disk0-snap1', volumeId: volume.id, sizeGiB: 2, status: 'creating' });
    await until(async () => (await d.getSnapshot(snapshot.id)).status === 'available');
    expect(await d.findSnapshot('ferry-1-disk0-snap1')).toMatchObject({ id: snapshot.id, volumeId: volume.id, status: 'available' });
    expect(await d.findSnapshot('ferry-1-disk0-snap9')).toBeNull();
    expect(await d.findSnapshot('ferry-1-disk0-snap')).toBeNull(); // a prefix: the match is exact
    expect(await d.findSnapshot('ferry-1-disk0')).toBeNull(); // the volume's name, a prefix of the snapshot's
    expect((await d.quota()).snapshots.used).toBe(before.snapshots.used + 1);

    expect((await refusal(d.deleteVolume(volume.id))).kind).toBe('conflict'); // attached
    await d.detachVolume(transportId, volume.id);
    expect((await d.getVolume(volume.id)).status).toBe('available');
    const withSnapshot = await refusal(d.deleteVolume(volume.id));
    expect(withSnapshot.message).toContain('has 1 snapshot(s)');
    await d.deleteSnapshot(snapshot.id);
    expect((await refusal(d.getSnapshot(snapshot.id))).kind).toBe('not-found');
    await d.deleteVolume(volume.id);
    await d.deleteVolume(volume.id); // already gone: nothing to do
    expect(await d.volumeNameTaken('ferry-1-disk0')).toBe(false);
    await expect(stat(attachment.device)).rejects.toThrow(/ENOENT/);
    expect((await refusal(d.getVolume(volume.id))).kind).toBe('not-found');
  });

  it('boots a server from a written disk (ACTIVE) and not from an empty one (ERROR); refuses a taken name and a fixed IP in use', async () => {
    const d = driver();
    const vpc = (await d.networks()).find((n) => n.name === 'ferry-vpc')!;
    const router = (await d.routers()).find((r) => r.name === 'ferry-router')!;
    expect(await d.fixedIpsInUse(vpc.id)).toEqual(['192.168.1.1', '192.168.1.10', '192.168.2.1']);
    expect(await d.serverNameTaken('ferry-transport')).toBe(true);
    expect(await d.serverNameTaken('ferry-trans')).toBe(false);

    // the transport writes the migrated disk (here: just a boot signature) into the attached volume
    const disk = await readyVolume('mig-1-disk0', true);
    const { device } = await d.attachVolume(transportId, disk);
    const file = await open(device, 'r+');
    await file.write(Buffer.from([0x55, 0xaa]), 0, 2, 510);
    await file.close();
    await d.detachVolume(transportId, disk);

    const server = await d.createServer({ name: 'mig-1', vcpus: 2, ramMiB: 4096, volumeIds: [disk], networkId: vpc.id, subnetId: vpc.subnets[0].id, fixedIp: '192.168.1.50', routerId: router.id, bandwidthMbps: 10 });
    expect(server).toMatchObject({ name: 'mig-1', status: 'BUILD', addresses: { 'ferry-vpc': ['192.168.1.50'] } });
    await until(async () => (await d.getServer(server.id)).status === 'ACTIVE');
    expect(await d.fixedIpsInUse(vpc.id)).toContain('192.168.1.50');
    expect(await d.getVolume(disk)).toMatchObject({ status: 'in-use', attachedTo: [server.id] });
    expect((await d.quota()).cores.used).toBe(4 + 2); // ferry-transport + 2核4G

    const spare = await readyVolume('mig-2-disk0', true);
    const ipTaken = await refusal(d.createServer({ name: 'mig-2', flavorId: '2核4G_SERIES_STANDARD', volumeIds: [spare], networkId: vpc.id, fixedIp: '192.168.1.10' }));
    expect(ipTaken.kind).toBe('conflict');
    expect(ipTaken.message).toContain('create server mig-2: 409 Conflict: IP 192.168.1.10 is already in use');
    const nameTaken = await refusal(d.createServer({ name: 'ferry-transport', flavorId: '2核4G_SERIES_STANDARD', volumeIds: [spare], networkId: vpc.id }));
    expect(nameTaken.kind).toBe('conflict');
    expect((await refusal(d.createServer({ name: 'mig-2', flavorId: 'no-such-flavor', volumeIds: [spare], networkId: vpc.id }))).kind).toBe('not-found');

    const internal = (await d.routers()).find((r) => r.name === 'internal-router')!;
    const tooWide = await refusal(d.createServer({ name: 'mig-2', flavorId: '2核4G_SERIES_STANDARD', volumeIds: [spare], networkId: vpc.id, routerId: router.id, bandwidthMbps: 5000 }));
    expect(tooWide.message).toContain('400 InvalidParameter: BandwidthMbps');
    const otherVpc = await refusal(d.createServer({ name: 'mig-2', flavorId: '2核4G_SERIES_STANDARD', volumeIds: [spare], networkId: vpc.id, routerId: internal.id }));
    expect(otherVpc.kind).toBe('bad-request');
    expect(otherVpc.message).toContain(`router ${internal.id} belongs to another VPC`);

    const empty = await d.createServer({ name: 'mig-2', flavorId: '1核1G_SERIES_STANDARD', volumeIds: [spare], networkId: vpc.id });
    await until(async () => (await d.getServer(empty.id)).status === 'ERROR');
    expect((await d.getServer(empty.id)).fault).toMatch(/^NoBootableDevice: /);
  });

  it('finds a server by its exact name, calls two of one name a conflict, and deletes it, twice without failing', async () => {
    const d = driver();
    const vpc = (await d.networks()).find((n) => n.name === 'ferry-vpc')!;
    const disk = await readyVolume('mig-7-disk0', true);
    // never written: the server goes to ERROR, as a migrated server may
    const boot = () => d.createServer({ name: 'mig-7', flavorId: '1核1G_SERIES_STANDARD', volumeIds: [disk], networkId: vpc.id, fixedIp: '192.168.1.70' });
    const server = await boot();
    expect(await d.findServer('mig-7')).toMatchObject({ id: server.id, name: 'mig-7' });
    for (const other of ['mig-', 'ig-7', 'mig-.', '^mig-7$', 'MIG-7']) expect(await d.findServer(other)).toBeNull();

    const proxy = await twinningProxy(sim.url, 'mig-7');
    try {
      const twins = await refusal(driver({ endpoint: proxy.url }).findServer('mig-7'));
      expect(twins.kind).toBe('conflict');
      expect(twins.message).toBe(`cloud "sim": find server mig-7: 2 servers are named mig-7: ${server.id}, ${server.id}-twin`);
    } finally {
      proxy.close();
    }

    await until(async () => (await d.getServer(server.id)).status === 'ERROR');
    await d.deleteServer(server.id);
    expect((await refusal(d.getServer(server.id))).kind).toBe('not-found');
    expect(await d.findServer('mig-7')).toBeNull();
    expect(await d.getVolume(disk)).toMatchObject({ status: 'available', attachedTo: [] });
    expect(await d.fixedIpsInUse(vpc.id)).not.toContain('192.168.1.70');
    await d.deleteServer(server.id); // already gone: nothing to do

    const again = await boot(); // ContinueTask: the same name, volume and fixed IP
    await d.deleteServer(again.id);
    await d.deleteVolume(disk);
  });

  it('turns the quota code into an over-quota refusal', async () => {
    const err = await refusal(driver().createVolume({ name: 'huge', sizeGiB: 5000 }));
    expect(err.kind).toBe('over-quota');
    expect(err.status).toBe(403);
    expect(err.message).toMatch(/^cloud "sim": create volume huge: 403 QuotaExceeded: .*the limit is 2048$/);
  });

  it('says a dead endpoint is unreachable and a slow one timed out, in bounded time', async () => {
    const deadPort = await freePort();
    const dead = await refusal(driver({ endpoint: `http://127.0.0.1:${deadPort}` }).flavors());
    expect(dead.kind).toBe('unreachable');
    expect(dead.message).toContain(`list flavors: cannot reach http://127.0.0.1:${deadPort}: ECONNREFUSED`);

    const slow = await spawnSimulator('huayun', ['--latency-ms', '3000']);
    try {
      const started = Date.now();
      const err = await refusal(new HuayunDriver({ ...settings, endpoint: slow.url }, { cloudName: 'slow', timeoutMs: 500 }).verify());
      expect(err.kind).toBe('timeout');
      expect(err.message).toBe(`cloud "slow": check the AccessKey and SecretKey: no answer from ${slow.url} within 0.5 s`);
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      await slow.stop();
    }
  });

  it('calls an answer it cannot read a bad response, and a proxy’s 502 page a server error', async () => {
    const proxy = http.createServer((req, res) => {
      if (req.url?.startsWith('/v1/flavors')) res.writeHead(200, { 'content-type': 'application/json' }).end('<html>maintenance</html>');
      else res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const garbled = await refusal(driver({ endpoint }).flavors());
      expect(garbled.kind).toBe('bad-response');
      expect(garbled.message).toBe('cloud "sim": list flavors: the answer is not JSON: <html>maintenance</html>');
      const gateway = await refusal(driver({ endpoint }).quota());
      expect(gateway.kind).toBe('server-error');
      expect(gateway.message).toBe('cloud "sim": read the quota: 502 502 Bad Gateway');
    } finally {
      proxy.close();
    }
  });

  it('the simulator refuses a tampered, replayed or stale signature, and malformed input, in the contract’s error format', async () => {
    // the worked example of docs/clouds/huayun.md
    const example = { method: 'POST', path: '/v1/volumes', query: [['RegionId', 'cn-suzhou1']] as [string, string][], date: '20261129T120000Z', nonce: '0123456789abcdef0123456789abcdef', body: '{"Name":"ferry-1-disk0","SizeGiB":20,"Bootable":true}' };
    expect(computeSignature('ferry-sk', example)).toBe('586bf38efac02d398fb67efb6939ae21206ca0f878aca2e7347e694ee313526a');

    const query: [string, string][] = [['RegionId', 'cn-suzhou1']];
    const signed = signRequest('ferry-ak', 'ferry-sk', { method: 'GET', path: '/v1/quota', query, body: '' });
    const get = (url: string, headers: Record<string, string>) => fetch(`${sim.url}${url}`, { headers });
    expect((await get('/v1/quota?RegionId=cn-suzhou1', signed)).status).toBe(200);
    expect(await answer(await get('/v1/quota?RegionId=cn-suzhou1', signed))).toMatchObject({ status: 401, code: 'NonceReused' });

    const fresh = signRequest('ferry-ak', 'ferry-sk', { method: 'GET', path: '/v1/quota', query, body: '' });
    expect(await answer(await get('/v1/quota?RegionId=cn-beijing1', fresh))).toMatchObject({ status: 401, code: 'InvalidSignature' });
    const forged = { ...fresh, authorization: fresh.authorization.replace(/Signature=(.)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`) };
    expect(await answer(await get('/v1/quota?RegionId=cn-suzhou1', forged))).toMatchObject({ status: 401, code: 'InvalidSignature' });
    expect((await get('/v1/quota?RegionId=cn-suzhou1', fresh)).status).toBe(200); // a forged request did not burn the nonce

    const stale = signRequest('ferry-ak', 'ferry-sk', { method: 'GET', path: '/v1/quota', query, body: '' }, new Date(Date.now() - 6 * 60_000));
    expect(await answer(await get('/v1/quota?RegionId=cn-suzhou1', stale))).toMatchObject({ status: 401, code: 'SignatureExpired' });
    expect(await answer(await fetch(`${sim.url}/v1/quota?RegionId=cn-suzhou1`))).toMatchObject({ status: 401, code: 'InvalidSignature' });

    const body = '{"Name":"x","SizeGiB":1}';
    const post = (sent: string, headers: Record<string, string>) => fetch(`${sim.url}/v1/volumes?RegionId=cn-suzhou1`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: sent });
    const signedPost = signRequest('ferry-ak', 'ferry-sk', { method: 'POST', path: '/v1/volumes', query, body });
    expect(await answer(await post('{"Name":"x","SizeGiB":9}', signedPost))).toMatchObject({ status: 401, code: 'InvalidSignature' });
    for (const malformed of ['{"Name":', '{"Name":"x","SizeGiB":"big"}', '{"Name":"x","SizeGiB":1,"Colour":"red"}', '[]']) {
      const headers = signRequest('ferry-ak', 'ferry-sk', { method: 'POST', path: '/v1/volumes', query, body: malformed });
      const refused = await answer(await post(malformed, headers));
      expect(refused).toMatchObject({ status: 400, code: 'InvalidParameter' });
      expect(refused.message).toBeTruthy();
    }
    const badQuery = signRequest('ferry-ak', 'ferry-sk', { method: 'GET', path: '/v1/quota', query: [], body: '' });
    expect(await answer(await get('/v1/quota?RegionId=%E0%A4%A', badQuery))).toMatchObject({ status: 400, code: 'InvalidParameter' });
    await driver().verify(); // still serving
  });

  async function answer(res: Response): Promise<{ status: number; code?: string; message?: string }> {
    const body = (await res.json()) as { code?: string; message?: string; requestId?: string };
    if (res.status >= 400) expect(body.requestId).toMatch(/^req-/);
    return { status: res.status, code: body.code, message: body.message };
  }

  /** A new volume, once available. */
  async function readyVolume(name: string, bootable: boolean): Promise<string> {
    const d = driver();
    const { id } = await d.createVolume({ name, sizeGiB: 1, bootable });
    await until(async () => (await d.getVolume(id)).status === 'available');
    return id;
  }
});
