import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { freePort } from './support/ports.js';
import { makeImage, spawnFerry, type FerryProcess } from './support/transport-fixture.js';
import { until } from './support/wait.js';

const MiB = 1024 * 1024;
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

/** A 64 MiB disk with an MBR, one bootable partition and ext4 on it (about 45 MiB free: less than 100 MiB). */
function makeBootDisk(file: string): void {
  execFileSync('truncate', ['-s', `${64 * MiB}`, file]);
  execFileSync('sfdisk', ['-q', file], { input: 'label: dos\nstart=2048, size=100000, type=83, bootable\n' });
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', `offset=${2048 * 512}`, file, `${Math.floor((100000 * 512) / 1024)}k`]);
}

describe('agent hosts through the legacy REST API, with a real transport and agent', () => {
  let dir: string;
  let t: TestFerry;
  let token: string;
  let transport: FerryProcess;
  let agent: FerryProcess;
  let transId: string;
  let hostId: string;
  const file = (name: string) => path.join(dir, name);
  const call = (body: Record<string, unknown>, url = '/portal/MgmtHostConnection') => rest(t.url, url, body, token);
  const hostCount = async () => Number((await t.ferry.db.orm.em.getConnection().execute(`select count(*) as n from source_hosts`))[0].n);
  const get = async (id = hostId) => (await call({ Action: 'GetPackerHost', Id: id })).body.Data as Record<string, any>;
  const spawnAgent = (port?: number) => spawnFerry('agent', ['--disk', file('boot.img'), '--disk', file('data.img'), '--state', file('agent')], port);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-hosts-rest-'));
    makeBootDisk(file('boot.img'));
    await makeImage(file('data.img'), 8, [1]);
    [transport, agent] = await Promise.all([spawnFerry('transport', ['--state', file('transport')]), spawnAgent()]);
    t = await startTestFerry({ hostCheckSeconds: 1 });
    token = await adminToken(t.url);
    const added = await rest(t.url, '/MgmtTransportConnection', { Action: 'AddTransportServer', ServType: 'On-Premises', Name: 'source-side', MgntAddr: transport.addr }, token);
    expect(added.body.Code).toBe(true);
    transId = added.body.Data.ID;
  }, 60_000);
  afterAll(async () => {
    await Promise.all([transport?.stop(), agent?.stop()]);
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds an agent host: its disks and NICs come from the agent, through the transport', async () => {
    const added = await call({ Action: 'AddPackerHost', Name: 'web-1', TransId: transId, MgntAddr: agent.addr });
    expect(added.body).toMatchObject({ Code: true, Msg: 'Add Packer Host Success.', Data: { ID: expect.any(String) } });
    hostId = added.body.Data.ID;
    const host = await get();
    expect(host).toMatchObject({ Id: hostId, Name: 'web-1', MgntAddr: agent.addr, TransId: transId, TransName: 'source-side', TransAddr: transport.addr, Agent: true, Offline: false, InTask: false, CPU: os.cpus().length, TotalSize: 72 * MiB });
    const [boot, data] = host.VolumeInfos;
    expect(boot).toMatchObject({ Path: file('boot.img'), Capacity: 64 * MiB, PartitionTable: 'MBR', Filesystem: 'ext4', UseType: 'boot', FreeSpaceNotEnough: true, CanNotBeMigrated: false });
    expect(boot.FreeSpace).toBeGreaterThan(30 * MiB);
    expect(boot.FreeSpace).toBeLessThan(50 * MiB);
    expect(data).toMatchObject({ Path: file('data.img'), Capacity: 8 * MiB, PartitionTable: '', Filesystem: '', FreeSpace: null, FreeSpaceNotEnough: false, CanNotBeMigrated: false });
    expect(host.CanNotMigrate).toBe(false);
    expect(host.NetInterfaces.length).toBeGreaterThan(0);
    expect(host.NetInterfaces[0]).toMatchObject({ Mac: expect.any(String), SubNets: expect.any(Array) });
    // the alias URL serves the same host
    expect((await call({ Action: 'GetPackerHost', Id: hostId }, '/MgmtHostConnection')).body.Data.Name).toBe('web-1');
    const list = await call({ Action: 'ListHosts' });
    expect(list.body).toEqual({ Code: true, Msg: 'List Hosts Success.', Data: { AgentHosts: [{ ID: hostId, Name: 'web-1', MgntAddr: agent.addr, OsName: host.OsName, TotalSize: 72 * MiB, CreatedTime: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), Agent: true, Offline: false }], VSPlatforms: [] } });
    expect((await call({ Action: 'ListHosts', Name: 'WEB' })).body.Data.AgentHosts).toHaveLength(1);
    expect((await call({ Action: 'ListHosts', Name: 'db' })).body.Data.AgentHosts).toHaveLength(0);
    expect((await call({ Action: 'ListHosts', MgntAddr: '127.0.0.1', TaskFree: true })).body.Data.AgentHosts).toHaveLength(1);
  });

  it('refuses invalid input, naming the field and the rule, and stores nothing', async () => {
    const before = await hostCount();
    const cases: [Record<string, unknown>, number, string][] = [
      [{ Name: '' }, 400, 'Name must be 1–32 characters and not only spaces (got 0 characters).'],
      [{ Name: 'x'.repeat(33) }, 400, 'Name must be 1–32 characters and not only spaces (got 33 characters).'],
      [{ TransId: NO_SUCH_ID }, 404, `TransId names no transport server (got "${NO_SUCH_ID}").`],
      [{ TransId: 'nope' }, 404, 'TransId names no transport server (got "nope").'],
      [{ MgntAddr: 'a:b:c:99999' }, 400, 'MgntAddr must be host or host:port, with a port between 1 and 65535 (7001 when omitted) (got "a:b:c:99999").'],
      [{ MgntAddr: agent.addr }, 409, `An agent host at ${agent.addr} is already registered ("web-1").`],
    ];
    for (const [fields, status, msg] of cases) {
      const reply = await call({ Action: 'AddPackerHost', Name: 'web-2', TransId: transId, MgntAddr: '127.0.0.1:1', ...fields });
      expect(reply.status, msg).toBe(status);
      expect(reply.body, msg).toEqual({ Code: false, Msg: msg, Data: null });
    }
    const port = await freePort();
    const silent = await call({ Action: 'AddPackerHost', Name: 'web-2', TransId: transId, MgntAddr: `127.0.0.1:${port}` });
    expect(silent.body.Code).toBe(false);
    expect(silent.body.Msg).toContain(`The agent at 127.0.0.1:${port} could not be reached`);
    expect(await hostCount()).toBe(before);
    expect((await call({ Action: 'GetPackerHost', Id: NO_SUCH_ID })).body).toEqual({ Code: false, Msg: `There is no agent host ${NO_SUCH_ID}.`, Data: null });
    expect((await call({ Action: 'GetPackerHost', Id: 'not-a-uuid' })).status).toBe(404);
  });

  it('verifies, renames, and refreshes after the disk changed', async () => {
    expect((await call({ Action: 'VerifyPackerConnection', HostId: hostId, TransAddr: transport.addr })).body).toEqual({ Code: true, Msg: 'Success.', Data: null });
    expect((await call({ Action: 'UpdatePackerHost', Id: hostId, TransId: transId, Name: ' web-renamed ' })).body).toEqual({ Code: true, Msg: 'Update Packer Host Success.', Data: null });
    expect((await call({ Action: 'UpdatePackerHost', Id: hostId, Name: '' })).body.Msg).toBe('Name must be 1–32 characters and not only spaces (got 0 characters).');
    expect((await get()).Name).toBe('web-renamed');
    await makeImage(file('data.img'), 16, [1]);
    expect((await call({ Action: 'RefreshPackerHost', Id: hostId })).body).toEqual({ Code: true, Msg: 'Refresh Packer Host Success.', Data: null });
    const host = await get();
    expect(host.VolumeInfos.map((v: any) => v.Capacity)).toEqual([64 * MiB, 16 * MiB]);
    expect(host.TotalSize).toBe(80 * MiB);
  });

  it('shows the host Offline within a minute of its agent stopping, and online again once it is back', async () => {
    const port = agent.port;
    await agent.stop();
    await until(async () => (await get()).Offline === true, 60_000);
    expect((await call({ Action: 'VerifyPackerConnection', HostId: hostId })).body.Code).toBe(false);
    agent = await spawnAgent(port);
    await until(async () => (await get()).Offline === false, 60_000);
  }, 60_000);

  it('keeps the transport while the host uses it, then deletes the host', async () => {
    const refused = await rest(t.url, '/MgmtTransportConnection', { Action: 'DeleteTransportServer', Id: transId }, token);
    expect(refused.body).toEqual({ Code: false, Msg: 'Transport server "source-side" is still used by a source host ("web-renamed"); delete it first.', Data: null });

    // a task of the host (seeded: tasks are built on top of this) keeps it, and takes it out of TaskFree lists
    const sql = (query: string, params: unknown[] = []) => t.ferry.db.orm.em.getConnection().execute(query, params);
    await sql(`insert into cloud_connections (id, name, cloud_type, cloud_user, cloud_pass_sealed, cloud_addr) values ('${NO_SUCH_ID}', 'seeded', 'Openstack', 'admin', 'v1.unused', '127.0.0.1')`);
    await sql(`insert into tasks (id, name, source_host_id, cloud_id, target_transport_id, interval_minutes, max_snaps_num, start_time) values (gen_random_uuid(), 'move-web', ?, ?, ?, 60, 3, now())`, [hostId, NO_SUCH_ID, transId]);
    expect((await call({ Action: 'ListHosts', TaskFree: true })).body.Data.AgentHosts).toEqual([]);
    expect((await call({ Action: 'ListHosts' })).body.Data.AgentHosts).toHaveLength(1);
    const inTask = await call({ Action: 'DeletePackerHost', Id: hostId });
    expect(inTask.status).toBe(409);
    expect(inTask.body).toEqual({ Code: false, Msg: 'Source host "web-renamed" is used by task "move-web"; delete the task first.', Data: null });
    expect(await hostCount()).toBe(1);
    await sql(`delete from tasks`);
    await sql(`delete from cloud_connections`);

    const deleted = await call({ Action: 'DeletePackerHost', Id: hostId });
    expect(deleted.body).toEqual({ Code: true, Msg: 'Delete Packer Host Success.', Data: null });
    expect(await hostCount()).toBe(0);
    expect((await call({ Action: 'DeletePackerHost', Id: hostId })).status).toBe(404);
  });
});
