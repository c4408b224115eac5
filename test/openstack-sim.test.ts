import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSimulator, type SimulatorProcess } from './support/simulator.js';
import { sleep } from './support/wait.js';

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

const GiB = 1024 ** 3;
const PASSWORD_AUTH = (password: string, project: Record<string, unknown> = { name: 'demo', domain: { name: 'Default' } }) => ({
  auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password } } }, scope: { project } },
});

async function call(url: string, init: { method?: string; token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
    headers: { 'content-type': 'application/json', ...(init.token && { 'x-auth-token': init.token }), ...init.headers },
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Polls until `check` returns something truthy; fails with the last value after `ms`. */
async function eventually<T>(probe: () => Promise<T>, check: (v: T) => boolean, ms = 5000): Promise<T> {
  let last = await probe();
  for (const end = Date.now() + ms; !check(last); last = await probe()) {
    if (Date.now() > end) throw new Error(`condition not met in ${ms} ms; last value: ${JSON.stringify(last)}`);
    await sleep(100);
  }
  return last;
}

describe('ferry sim openstack, as an OpenStack client sees it', () => {
  let dir: string;
  let sim: SimulatorProcess;
  let shortLived: SimulatorProcess;
  let token: string;
  let projectId: string;
  let compute: string;
  let network: string;
  let volume: string;
  let transportId: string;

  const createVolume = async (name: string, size = 1) => {
    const created = await call(`${volume}/volumes`, { token, body: { volume: { size, name, volume_type: 'ssd', availability_zone: 'nova' } } });
    expect(created.status).toBe(202);
    expect(created.body.volume.status).toBe('creating');
    const id: string = created.body.volume.id;
    await eventually(() => call(`${volume}/volumes/${id}`, { token }), (a) => a.body.volume.status === 'available');
    return id;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-os-sim-'));
    [sim, shortLived] = await Promise.all([spawnSimulator('openstack', ['--dir', dir]), spawnSimulator('openstack', ['--token-ttl', '2'])]);
    const issued = await call(`${sim.url}/v3/auth/tokens`, { body: PASSWORD_AUTH('secret') });
    token = issued.headers.get('x-subject-token')!;
    projectId = issued.body.token.project.id;
    const url = (type: string) => issued.body.token.catalog.find((s: any) => s.type === type).endpoints.find((e: any) => e.interface === 'public').url;
    [compute, network, volume] = [url('compute'), url('network'), url('volumev3')];
    const servers = await call(`${compute}/servers?name=${encodeURIComponent('^ferry-transport$')}`, { token });
    transportId = servers.body.servers[0].id;
  });
  afterAll(async () => {
    await Promise.all([sim?.stop(), shortLived?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('issues a project-scoped token with a catalog of the four services on its one port', async () => {
    const issued = await call(`${sim.url}/v3/auth/tokens`, { body: PASSWORD_AUTH('secret', { id: projectId }) });
    expect(issued.status).toBe(201);
    expect(issued.headers.get('x-subject-token')).toMatch(/^gAAAAA/);
    const t = issued.body.token;
    expect(t).toMatchObject({ methods: ['password'], user: { name: 'admin', domain: { id: 'default', name: 'Default' } }, project: { name: 'demo', id: projectId } });
    expect(t.roles.map((r: any) => r.name)).toEqual(expect.arrayContaining(['admin', 'member']));
    const ttl = Date.parse(t.expires_at) - Date.parse(t.issued_at);
    expect(ttl).toBe(3600_000);
    const urls = Object.fromEntries(t.catalog.map((s: any) => [s.type, s.endpoints.map((e: any) => `${e.interface} ${e.region_id} ${e.url}`)]));
    expect(urls.identity).toContain(`public RegionOne ${sim.url}/v3`);
    expect(urls.compute).toContain(`internal RegionOne ${sim.url}/compute/v2.1`);
    expect(urls.network).toContain(`admin RegionOne ${sim.url}/network`);
    expect(urls.volumev3).toContain(`public RegionOne ${sim.url}/volume/v3/${projectId}`);
    expect(urls['block-storage']).toContain(`public RegionOne ${sim.url}/volume/v3/${projectId}`);

    const validated = await call(`${sim.url}/v3/auth/tokens`, { token, headers: { 'x-subject-token': issued.headers.get('x-subject-token')! } });
    expect(validated.status).toBe(200);
    expect(validated.body.token.project.name).toBe('demo');
    const projects = await call(`${sim.url}/v3/auth/projects`, { token });
    expect(projects.body.projects.map((p: any) => p.name)).toEqual(['demo']);
  });

  it('refuses wrong credentials, an unknown project and missing or unknown tokens with 401', async () => {
    const wrong = await call(`${sim.url}/v3/auth/tokens`, { body: PASSWORD_AUTH('not-the-password') });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: { code: 401, title: 'Unauthorized', message: expect.any(String) } });
    expect(wrong.headers.get('x-subject-token')).toBeNull();
    const unknownProject = await call(`${sim.url}/v3/auth/tokens`, { body: PASSWORD_AUTH('secret', { name: 'nope', domain: { name: 'Default' } }) });
    expect(unknownProject.status).toBe(401);
    for (const url of [`${compute}/flavors/detail`, `${network}/v2.0/networks`, `${volume}/types`]) {
      const missing = await call(url);
      expect(missing.status, url).toBe(401);
      expect(missing.body.error.code).toBe(401);
      expect(missing.headers.get('www-authenticate')).toContain('Keystone uri=');
      expect((await call(url, { token: 'gAAAAABnot-a-token' })).status, url).toBe(401);
    }
  });

  it('refuses a token once --token-ttl has passed', async () => {
    const issued = await call(`${shortLived.url}/v3/auth/tokens`, { body: PASSWORD_AUTH('secret') });
    const shortToken = issued.headers.get('x-subject-token')!;
    const computeUrl = issued.body.token.catalog.find((s: any) => s.type === 'compute').endpoints[0].url;
    expect((await call(`${computeUrl}/flavors`, { token: shortToken })).status).toBe(200);
    await sleep(Date.parse(issued.body.token.expires_at) - Date.now() + 100);
    const expired = await call(`${computeUrl}/flavors`, { token: shortToken });
    expect(expired.status).toBe(401);
    expect(expired.body.error.title).toBe('Unauthorized');
  });

  it('serves the seeded flavors and lets an admin create one', async () => {
    const flavors = await call(`${compute}/flavors/detail`, { token });
    expect(flavors.status).toBe(200);
    const byName = Object.fromEntries(flavors.body.flavors.map((f: any) => [f.name, [f.id, f.vcpus, f.ram, f.disk]]));
    expect(byName).toMatchObject({ 'm1.tiny': ['1', 1, 512, 1], 'm1.small': ['2', 1, 2048, 20], 'm1.medium': ['3', 2, 4096, 40], 'm1.large': ['4', 4, 8192, 80] });
    const one = await call(`${compute}/flavors/3`, { token, headers: { 'OpenStack-API-Version': 'compute 2.61' } });
    expect(one.body.flavor).toMatchObject({ name: 'm1.medium', extra_specs: {} });
    expect(one.headers.get('openstack-api-version')).toBe('compute 2.61');
    expect((await call(`${compute}/flavors/99`, { token })).body).toEqual({ itemNotFound: { code: 404, message: 'Flavor 99 could not be found.' } });

    const created = await call(`${compute}/flavors`, { token, body: { flavor: { name: 'ferry-3c-6g', vcpus: 3, ram: 6144, disk: 0 } } });
    expect(created.status).toBe(200);
    expect(created.body.flavor).toMatchObject({ name: 'ferry-3c-6g', vcpus: 3, ram: 6144, disk: 0 });
    expect((await call(`${compute}/flavors/${created.body.flavor.id}`, { token })).status).toBe(200);
    expect((await call(`${compute}/flavors`, { token, body: { flavor: { name: 'ferry-3c-6g', vcpus: 3, ram: 6144, disk: 0 } } })).status).toBe(409);
  });

  it('serves networks with their subnets, ports by address, and security groups', async () => {
    const networks = await call(`${network}/v2.0/networks`, { token });
    const priv = networks.body.networks.find((n: any) => n.name === 'private');
    const pub = networks.body.networks.find((n: any) => n.name === 'public');
    expect(priv['router:external']).toBe(false);
    expect(pub['router:external']).toBe(true);
    const subnets = await call(`${network}/v2.0/subnets?network_id=${priv.id}`, { token });
    expect(subnets.body.subnets.map((s: any) => [s.cidr, s.gateway_ip]).sort()).toEqual([
      ['10.0.0.0/24', '10.0.0.1'],
      ['10.0.1.0/24', '10.0.1.1'],
    ]);
    expect(priv.subnets.sort()).toEqual(subnets.body.subnets.map((s: any) => s.id).sort());
    const publicSubnets = await call(`${network}/v2.0/subnets?network_id=${pub.id}`, { token });
    expect(publicSubnets.body.subnets.map((s: any) => s.cidr)).toEqual(['172.24.4.0/24']);

    const transportPort = await call(`${network}/v2.0/ports?network_id=${priv.id}&fixed_ips=ip_address%3D10.0.0.3`, { token });
    expect(transportPort.body.ports.map((p: any) => p.device_id)).toEqual([transportId]);
    const nobody = await call(`${network}/v2.0/ports?fixed_ips=ip_address%3D10.0.0.200`, { token });
    expect(nobody.body.ports).toEqual([]);

    const groups = await call(`${network}/v2.0/security-groups`, { token });
    expect(groups.body.security_groups.map((g: any) => g.name).sort()).toEqual(['default', 'web']);
  });

  it('serves volume types, storage pools and both quotas', async () => {
    const types = await call(`${volume}/types`, { token });
    const specs = Object.fromEntries(types.body.volume_types.map((t: any) => [t.name, t.extra_specs.volume_backend_name ?? null]));
    expect(specs).toEqual({ __DEFAULT__: null, ssd: 'ssd', hdd: 'hdd' });

    const pools = await call(`${volume}/scheduler-stats/get_pools?detail=true`, { token });
    expect(pools.body.pools.map((p: any) => p.name)).toEqual(['cinder@ssd#ssd', 'cinder@hdd#hdd']);
    expect(pools.body.pools[0].capabilities).toMatchObject({ volume_backend_name: 'ssd', storage_protocol: 'iSCSI', total_capacity_gb: 2048 });
    expect(pools.body.pools[0].capabilities.free_capacity_gb).toBeLessThanOrEqual(2048);

    const volumeQuota = await call(`${volume}/os-quota-sets/${projectId}?usage=true`, { token });
    expect(volumeQuota.body.quota_set).toMatchObject({ volumes: { limit: 20, reserved: 0 }, gigabytes: { limit: 1000 }, snapshots: { limit: 20 } });
    expect(typeof volumeQuota.body.quota_set.gigabytes.in_use).toBe('number');

    const computeQuota = await call(`${compute}/os-quota-sets/${projectId}/detail`, { token });
    // the transport server (m1.small) is already there
    expect(computeQuota.body.quota_set).toMatchObject({ cores: { limit: 20 }, ram: { limit: 51200 }, instances: { limit: 10 } });
    expect(computeQuota.body.quota_set.instances.in_use).toBeGreaterThanOrEqual(1);
    expect(computeQuota.body.quota_set.ram.in_use).toBeGreaterThanOrEqual(2048);
    expect((await call(`${compute}/os-quota-sets/${projectId}`, { token })).body.quota_set.cores).toBe(20);
  });

  it('makes a volume a sparse file that attaching to the transport exposes, snapshots it, and refuses to delete it while attached', async () => {
    const id = await createVolume('ferry-disk-0');
    const file = path.join(dir, 'volumes', `${id}.img`);
    expect((await stat(file)).size).toBe(GiB);

    const attached = await call(`${compute}/servers/${transportId}/os-volume_attachments`, { token, body: { volumeAttachment: { volumeId: id } } });
    expect(attached.status).toBe(200);
    expect(attached.body.volumeAttachment).toMatchObject({ serverId: transportId, volumeId: id, device: file });
    expect(path.isAbsolute(attached.body.volumeAttachment.device)).toBe(true);
    await eventually(() => call(`${volume}/volumes/${id}`, { token }), (a) => a.body.volume.status === 'in-use');
    const listed = await call(`${compute}/servers/${transportId}/os-volume_attachments`, { token });
    expect(listed.body.volumeAttachments.map((a: any) => a.volumeId)).toContain(id);

    // what the transport writes lands in the volume
    const device = await open(attached.body.volumeAttachment.device, 'r+');
    await device.write(Buffer.from('ferry was here'), 0, 14, 512 * 1024 * 1024);
    await device.close();

    const refused = await call(`${volume}/volumes/${id}`, { token, method: 'DELETE' });
    expect(refused.status).toBe(400);
    expect(refused.body.badRequest.message).toMatch(/^Invalid volume: Volume status must be available/);

    const snap = await call(`${volume}/snapshots`, { token, body: { snapshot: { volume_id: id, name: 'ferry-snap', force: true } } });
    expect(snap.status).toBe(202);
    const snapId = snap.body.snapshot.id;
    await eventually(() => call(`${volume}/snapshots/${snapId}`, { token }), (a) => a.body.snapshot.status === 'available');
    const snapFile = path.join(dir, 'snapshots', `${snapId}.img`);
    const copied = await stat(snapFile);
    expect(copied.size).toBe(GiB);
    expect(copied.blocks * 512).toBeLessThan(16 * 1024 * 1024); // the holes stayed holes
    const copy = await open(snapFile, 'r');
    const { buffer } = await copy.read(Buffer.alloc(14), 0, 14, 512 * 1024 * 1024);
    await copy.close();
    expect(buffer.toString()).toBe('ferry was here');
    const details = await call(`${volume}/snapshots/detail`, { token });
    expect(details.body.snapshots.map((s: any) => [s.name, s.volume_id])).toContainEqual(['ferry-snap', id]);

    expect((await call(`${volume}/snapshots/${snapId}`, { token, method: 'DELETE' })).status).toBe(202);
    await eventually(() => call(`${volume}/snapshots/${snapId}`, { token }), (a) => a.status === 404);
    await expect(stat(snapFile)).rejects.toThrow();

    expect((await call(`${compute}/servers/${transportId}/os-volume_attachments/${id}`, { token, method: 'DELETE' })).status).toBe(202);
    await eventually(() => call(`${volume}/volumes/${id}`, { token }), (a) => a.body.volume.status === 'available');
    expect((await call(`${volume}/volumes/${id}`, { token, method: 'DELETE' })).status).toBe(202);
    await eventually(() => call(`${volume}/volumes/${id}`, { token }), (a) => a.status === 404);
    await expect(stat(file)).rejects.toThrow();
  });

  it('boots a server from a volume (BUILD, then ACTIVE with its fixed IP), and a fail-boot one ends in ERROR', async () => {
    const privateId = (await call(`${network}/v2.0/networks?name=private`, { token })).body.networks[0].id;
    const bootId = await createVolume('boot-disk');
    await call(`${volume}/volumes/${bootId}/action`, { token, body: { 'os-set_bootable': { bootable: true } } });
    expect((await call(`${volume}/volumes/${bootId}`, { token })).body.volume.bootable).toBe('true');
    const boot = (name: string, volumeId: string, net: Record<string, string>) =>
      call(`${compute}/servers`, {
        token,
        body: {
          server: {
            name,
            flavorRef: '2',
            availability_zone: 'nova',
            block_device_mapping_v2: [{ boot_index: 0, uuid: volumeId, source_type: 'volume', destination_type: 'volume', delete_on_termination: false }],
            networks: [net],
            security_groups: [{ name: 'web' }],
          },
        },
      });

    const created = await boot('migrated-web-1', bootId, { uuid: privateId, fixed_ip: '10.0.0.77' });
    expect(created.status).toBe(202);
    const serverId = created.body.server.id;
    expect(created.headers.get('location')).toBe(`${compute}/servers/${serverId}`);
    expect((await call(`${compute}/servers/${serverId}`, { token })).body.server.status).toBe('BUILD');
    const active = await eventually(() => call(`${compute}/servers/${serverId}`, { token }), (a) => a.body.server.status !== 'BUILD');
    expect(active.body.server).toMatchObject({
      status: 'ACTIVE',
      name: 'migrated-web-1',
      addresses: { private: [{ addr: '10.0.0.77', version: 4, 'OS-EXT-IPS:type': 'fixed' }] },
      'os-extended-volumes:volumes_attached': [{ id: bootId }],
      security_groups: [{ name: 'web' }],
    });
    expect((await call(`${volume}/volumes/${bootId}`, { token })).body.volume.status).toBe('in-use');

    // Nova's name filter is a regular expression
    const matching = await call(`${compute}/servers/detail?name=${encodeURIComponent('^migrated-web-\\d$')}`, { token });
    expect(matching.body.servers.map((s: any) => s.id)).toEqual([serverId]);
    expect((await call(`${compute}/servers?name=^migrated-db`, { token })).body.servers).toEqual([]);

    // the fixed IP is now a port's: Neutron refuses it to anyone else
    const taken = await call(`${network}/v2.0/ports`, { token, body: { port: { network_id: privateId, fixed_ips: [{ ip_address: '10.0.0.77' }] } } });
    expect(taken.status).toBe(409);
    expect(taken.body.NeutronError).toMatchObject({ type: 'IpAddressAlreadyAllocated', message: expect.stringContaining('10.0.0.77') });
    const free = await call(`${network}/v2.0/ports`, { token, body: { port: { network_id: privateId, fixed_ips: [{ ip_address: '10.0.0.78' }] } } });
    expect(free.status).toBe(201);
    expect(free.body.port.fixed_ips[0].ip_address).toBe('10.0.0.78');

    const failingDisk = await createVolume('fail-disk');
    const failing = await boot('ferry-fail-boot-1', failingDisk, { port: free.body.port.id });
    expect(failing.status).toBe(202);
    const errored = await eventually(() => call(`${compute}/servers/${failing.body.server.id}`, { token }), (a) => a.body.server.status !== 'BUILD');
    expect(errored.body.server.status).toBe('ERROR');
    expect(errored.body.server.fault).toMatchObject({ code: 500, message: expect.stringContaining('fail-boot') });

    expect((await call(`${compute}/servers/${serverId}`, { token, method: 'DELETE' })).status).toBe(204);
    expect((await call(`${compute}/servers/${serverId}`, { token })).status).toBe(404);
    expect((await call(`${volume}/volumes/${bootId}`, { token })).body.volume.status).toBe('available');
  });

  it('answers over-quota volumes with 413 as Cinder does', async () => {
    const over = await call(`${volume}/volumes`, { token, body: { volume: { size: 5000, name: 'too-big' } } });
    expect(over.status).toBe(413);
    expect(over.body.overLimit).toMatchObject({ code: 413, message: expect.stringMatching(/^VolumeSizeExceedsAvailableQuota: .*Requested 5000G, quota is 1000G/) });
    const listed = await call(`${volume}/volumes/detail?name=too-big&all_tenants=1`, { token });
    expect(listed.body.volumes).toEqual([]);
  });

  it('answers malformed JSON with 400 and unknown routes with 404, each service in its own format', async () => {
    const malformed = { raw: '{"volume": ', token };
    expect(await call(`${compute}/servers`, malformed)).toMatchObject({ status: 400, body: { badRequest: { code: 400 } } });
    expect(await call(`${volume}/volumes`, malformed)).toMatchObject({ status: 400, body: { badRequest: { code: 400 } } });
    expect(await call(`${network}/v2.0/ports`, malformed)).toMatchObject({ status: 400, body: { NeutronError: { type: 'HTTPBadRequest' } } });
    expect(await call(`${sim.url}/v3/auth/tokens`, { raw: 'not json' })).toMatchObject({ status: 400, body: { error: { code: 400, title: 'Bad Request' } } });

    expect(await call(`${compute}/no-such-thing`, { token })).toMatchObject({ status: 404, body: { itemNotFound: { code: 404 } } });
    expect(await call(`${volume}/no-such-thing`, { token })).toMatchObject({ status: 404, body: { itemNotFound: { code: 404 } } });
    expect(await call(`${network}/v2.0/no-such-thing`, { token })).toMatchObject({ status: 404, body: { NeutronError: { type: 'HTTPNotFound' } } });
    expect(await call(`${sim.url}/v3/no-such-thing`, { token })).toMatchObject({ status: 404, body: { error: { code: 404 } } });
    // and it still answers
    expect((await call(`${compute}/flavors`, { token })).status).toBe(200);
  });

  it('stops cleanly on SIGTERM', async () => {
    await shortLived.stop();
    expect(shortLived.proc.exitCode).toBe(0);
  });
});
