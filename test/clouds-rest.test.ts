import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { freePort } from './support/ports.js';
import { spawnSimulator, type SimulatorProcess } from './support/simulator.js';

const PASSWORD = 'sim-Passw0rd-never-shown';

describe('cloud connections through the legacy REST API, against the OpenStack simulator', () => {
  let sim: SimulatorProcess;
  let t: TestFerry;
  let token: string;
  const lines: string[] = [];
  const cloud = (fields: Record<string, unknown> = {}) => ({
    Action: 'AddCloudConnection',
    CloudName: 'sim-cloud',
    CloudType: 'Openstack',
    ProjectName: 'demo',
    CloudUser: 'admin',
    CloudPass: PASSWORD,
    IdentityPort: String(sim.port),
    CloudAddr: '127.0.0.1',
    ...fields,
  });
  const call = (path: string, body: Record<string, unknown>) => rest(t.url, path, body, token);

  beforeAll(async () => {
    sim = await spawnSimulator('openstack', ['--password', PASSWORD]);
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
    t = await startTestFerry({}, pino({ level: 'trace' }, sink));
    token = await adminToken(t.url);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  it('lists the cloud types', async () => {
    const r = await call('/MgmtCloudConnection', { Action: 'ListCloudType' });
    expect(r.body).toEqual({ Code: 0, Msg: 'Get All Cloud Type Success.', Data: ['Huayun', 'Openstack', 'CloudUltra 4', 'ArcherOS 2020'] });
  });

  it('refuses bad input naming the field and the rule, and stores nothing', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ CloudName: 'x' }, /^CloudName must be 2–20 characters/],
      [{ CloudName: 'has space' }, /^CloudName must be 2–20 characters/],
      [{ CloudName: 'a'.repeat(21) }, /^CloudName must be 2–20 characters/],
      [{ CloudType: 'Azure' }, /^CloudType must be one of "Huayun", "Openstack", "CloudUltra 4", "ArcherOS 2020"/],
      [{ ProjectName: undefined }, /^ProjectName is required for Openstack/],
      [{ IdentityPort: '70000' }, /^IdentityPort must be a port number/],
      [{ IdentityProtocal: 'ftp' }, /^IdentityProtocal must be http or https/],
      [{ CloudAddr: 'http://x/y z' }, /^CloudAddr must be the Keystone host/],
      [{ CloudPass: '' }, /^CloudPass must not be empty/],
    ];
    for (const [fields, message] of cases) {
      const r = await call('/MgmtCloudConnection', cloud(fields));
      expect(r.status, JSON.stringify(fields)).toBe(400);
      expect(r.body.Code).toBe(false);
      expect(r.body.Msg).toMatch(message);
    }
    expect((await call('/MgmtCloudConnection', { Action: 'ListCloudConnection' })).body.Data).toEqual([]);
  });

  it('verifies credentials: good ones pass, a wrong password and a dead endpoint are refused plainly', async () => {
    const good = await call('/MgmtCloudConnection', { ...cloud(), Action: 'VerifyCloudConnection' });
    expect(good.body).toEqual({ Code: true, Msg: 'Success.', Data: null });
    const wrong = await call('/MgmtCloudConnection', { ...cloud({ CloudPass: 'not-the-password' }), Action: 'VerifyCloudConnection' });
    expect(wrong.status).toBe(502);
    expect(wrong.body.Code).toBe(false);
    expect(wrong.body.Msg).toMatch(/authenticate \(Keystone POST \/v3\/auth\/tokens\): 401.*check CloudUser and CloudPass/);
    expect(wrong.text).not.toContain('not-the-password');
    const deadPort = await freePort();
    const dead = await call('/MgmtCloudConnection', { ...cloud({ IdentityPort: String(deadPort) }), Action: 'VerifyCloudConnection' });
    expect(dead.status).toBe(502);
    expect(dead.body.Msg).toMatch(new RegExp(`cannot reach http://127.0.0.1:${deadPort}: ECONNREFUSED`));
  });

  it('adds a connection once, lists it without its password, and serves the cloud’s look-ups', async () => {
    const added = await call('/MgmtCloudConnection', cloud());
    expect(added.body).toMatchObject({ Code: true, Msg: 'Add Cloud Connection Success.' });
    const id: string = added.body.Data.ID;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const again = await call('/MgmtCloudConnection', cloud());
    expect(again.status).toBe(409);
    expect(again.body.Msg).toBe('A cloud connection named "sim-cloud" already exists.');
    const wrong = await call('/MgmtCloudConnection', cloud({ CloudName: 'other', CloudPass: 'bad-pass' }));
    expect(wrong.status).toBe(502);

    const list = await call('/MgmtCloudConnection', { Action: 'ListCloudConnection' });
    expect(list.body.Data).toHaveLength(1);
    expect(list.body.Data[0]).toMatchObject({ ID: id, Name: 'sim-cloud', CloudType: 'Openstack', ProjectName: 'demo', Domain: 'Default', CloudUser: 'admin', CloudPass: '******', CloudAddr: '127.0.0.1', IdentityPort: String(sim.port), IdentityUrl: `http://127.0.0.1:${sim.port}/v3` });
    expect(Object.keys(list.body.Data[0])).toEqual(['AccountId', 'ID', 'Name', 'CloudType', 'ProjectName', 'Domain', 'CloudUser', 'CloudPass', 'CloudAddr', 'IdentityPort', 'IdentityUrl', 'CreatedTime', 'RegionName', 'RegionId']);
    expect((await call('/MgmtCloudConnection', { Action: 'ListCloudConnection', Name: 'nothing-like-it' })).body.Data).toEqual([]);
    expect((await call('/MgmtCloudConnection', { Action: 'ListCloudConnection', Name: 'SIM' })).body.Data).toHaveLength(1);

    const flavors = await call('/MgmtTask', { Action: 'ListFlavors', Id: id });
    expect(Object.keys(flavors.body)).toEqual(['Flavors']);
    expect(flavors.body.Flavors).toContainEqual(expect.objectContaining({ Name: 'm1.small', vCPU: 1, Ram: 2048, Disk: 20 }));
    const networks = await call('/MgmtTask', { Action: 'ListNetworks', Id: id });
    const priv = networks.body.Networks.find((n: { Name: string }) => n.Name === 'private');
    expect(priv.Subnets.map((s: { Cidr: string }) => s.Cidr).sort()).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    const groups = await call('/MgmtTask', { Action: 'ListSecurityGroups', Id: id });
    expect(groups.body.SecurityGroup.map((g: { Name: string }) => g.Name).sort()).toEqual(['default', 'web']);
    const types = await call('/MgmtTask', { Action: 'ListVolumeTypes', Id: id });
    expect(types.body.Code).toBe(true);
    expect(types.body.Data.map((v: { Name: string }) => v.Name)).toEqual(expect.arrayContaining(['ssd', 'hdd']));
    const pools = await call('/MgmtTask', { Action: 'ListStorages', Id: id });
    expect(pools.body.Data.length).toBeGreaterThan(0);
    expect(pools.body.Data[0]).toEqual({ Name: expect.any(String), ID: expect.stringContaining('@'), Type: expect.any(String) });
    const quota = await call('/MgmtTask', { Action: 'ListQuota', Id: id });
    expect(quota.body.Code).toBe(0);
    // what is left: the seeded limits (20 cores, 50 GiB of RAM, 1000 GiB) minus what the seeded transport server uses
    expect(quota.body.Data.CPU).toBeGreaterThan(0);
    expect(quota.body.Data.CPU).toBeLessThanOrEqual(20);
    expect(quota.body.Data.Memory).toBeLessThanOrEqual(50);
    expect(quota.body.Data.Disk).toBeLessThanOrEqual(1000);
    expect((await call('/MgmtTask', { Action: 'ListFlavors', Id: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
    expect((await call('/MgmtTask', { Action: 'ListFlavors', Id: "x' or 1=1 --" })).status).toBe(404);
  });

  it('updates a connection, verifying new credentials first and keeping the old ones when refused', async () => {
    const [c] = (await call('/MgmtCloudConnection', { Action: 'ListCloudConnection' })).body.Data;
    const refused = await call('/MgmtCloudConnection', { Action: 'UpdateCloudConnection', Id: c.ID, CloudPass: 'changed-wrong' });
    expect(refused.status).toBe(502);
    expect(refused.body.Code).toBe(false);
    expect((await call('/MgmtTask', { Action: 'ListFlavors', Id: c.ID })).status).toBe(200);
    const renamed = await call('/MgmtCloudConnection', { Action: 'UpdateCloudConnection', Id: c.ID, Name: 'renamed-cloud' });
    expect(renamed.body).toEqual({ Code: true, Msg: 'Update Cloud Connection Success.', Data: null });
    expect((await call('/MgmtCloudConnection', { Action: 'ListCloudConnection' })).body.Data[0].Name).toBe('renamed-cloud');
    expect((await call('/MgmtCloudConnection', { Action: 'UpdateCloudConnection', Id: c.ID, Name: '!' })).body.Msg).toMatch(/^Name must be 2–20 characters/);
    const retyped = await call('/MgmtCloudConnection', { Action: 'UpdateCloudConnection', Id: c.ID, CloudType: 'Huayun' });
    expect(retyped.status).toBe(400);
    expect(retyped.body.Msg).toBe('CloudType cannot change; add a new connection instead.');
  });

  it('refuses to delete a cloud that still has transport servers, saying which', async () => {
    const [c] = (await call('/MgmtCloudConnection', { Action: 'ListCloudConnection' })).body.Data;
    const sql = t.ferry.db.orm.em.getConnection();
    await sql.execute(`insert into transport_servers (id, name, serv_type, cloud_id, mgnt_addr) values (gen_random_uuid(), 'transport-a', 'Cloud', ?, '127.0.0.1:7002')`, [c.ID]);
    const refused = await call('/MgmtCloudConnection', { Action: 'DeleteCloudConnection', Id: c.ID });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ Code: -1, Msg: 'Cloud connection "renamed-cloud" still has a transport server ("transport-a"); delete it first.', Data: null });
    await sql.execute(`delete from transport_servers where cloud_id = ?`, [c.ID]);
    const deleted = await call('/MgmtCloudConnection', { Action: 'DeleteCloudConnection', Id: c.ID });
    expect(deleted.body).toEqual({ Code: 0, Msg: 'Delete Cloud Success.', Data: null });
    expect((await call('/MgmtCloudConnection', { Action: 'DeleteCloudConnection', Id: c.ID })).status).toBe(404);
  });

  it('never writes a cloud password to the database in clear, nor to any log line', async () => {
    await call('/MgmtCloudConnection', cloud({ CloudName: 'sealed-cloud' }));
    const [row] = await t.ferry.db.orm.em.getConnection().execute(`select cloud_pass_sealed from cloud_connections where name = 'sealed-cloud'`);
    expect(row.cloud_pass_sealed).toMatch(/^v1\./);
    expect(row.cloud_pass_sealed).not.toContain(PASSWORD);
    const log = lines.join('');
    expect(log).toContain('cloud connection added');
    for (const secret of [PASSWORD, 'not-the-password', 'changed-wrong', 'bad-pass']) expect(log).not.toContain(secret);
  });
});
