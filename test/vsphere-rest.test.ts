import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInventory } from '../src/drivers/vsphere/inventory.js';
import { retrieveOne } from '../src/drivers/vsphere/property-collector.js';
import { moRef, moRefXml, textXml } from '../src/drivers/vsphere/soap-xml.js';
import { VimSession } from '../src/drivers/vsphere/vim-session.js';
import { runTask } from '../src/drivers/vsphere/vim-tasks.js';
import { rest } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { spawnFerry, type FerryProcess } from './support/transport-fixture.js';
import { spawnVcsim, type VcsimProcess } from './support/vcsim.js';
import { addDatacenterTransport } from './support/vsphere-fixture.js';

interface VT {
  Id: string;
  Name: string;
  Agent: boolean;
  VMHostUuid: string;
  CPU: number;
  Memory: number;
  VolumeInfos: { Path: string; Capacity: number; UseType: string }[];
  NetInterfaces: { Mac: string }[];
}
interface Group {
  ID: string;
  Name: string;
  VmGroups: Group[];
  VTs: VT[];
}

/** Every VM of a ListVSHosts tree, by the hosts that run them. */
const vmsOnHosts = (tree: any[]): VT[] =>
  tree.flatMap((p) => p.DataCenters.flatMap((d: any) => [...d.PhyHosts, ...d.Clusters.flatMap((c: any) => c.PhyHosts)].flatMap((h: any) => h.VTs)));
const vmsInGroups = (groups: Group[]): VT[] => groups.flatMap((g) => [...g.VTs, ...vmsInGroups(g.VmGroups)]);
const depth = (groups: Group[]): number => (groups.length ? 1 + Math.max(...groups.map((g) => depth(g.VmGroups))) : 0);

describe('vSphere platforms through the legacy REST API, against vcsim', () => {
  let dir: string;
  let t: TestFerry;
  let token: string;
  let transport: FerryProcess;
  let vc: VcsimProcess;
  let transId: string;
  let platformId: string;
  const call = (body: Record<string, unknown>) => rest(t.url, '/portal/MgmtHostConnection', body, token);
  const add = (fields: Record<string, unknown> = {}) => call({ Action: 'AddVSPlatform', Name: 'vc-1', Ip: vc.url, UserName: vc.username, Passwd: vc.password, TransId: transId, ...fields });
  const tree = async () => (await call({ Action: 'ListVSHosts' })).body.Data as any[];
  const platformCount = async () => Number((await t.ferry.db.orm.em.getConnection().execute(`select count(*) as n from vsphere_platforms`))[0].n);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-vsphere-rest-'));
    [transport, vc] = await Promise.all([
      spawnFerry('transport', ['--state', path.join(dir, 'transport')]),
      spawnVcsim({ datacenters: 2, clusters: 1, clusterHosts: 2, hosts: 1, vms: 2, folderDepth: 3, duplicateUuid: 1 }),
    ]);
    t = await startTestFerry();
    token = await adminToken(t.url);
    transId = await addDatacenterTransport(t.url, token, transport);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([transport?.stop(), vc?.stop()]);
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses bad input and a wrong password, naming the field, never echoing the password, creating nothing', async () => {
    const cases: [Record<string, unknown>, number, RegExp, string][] = [
      [{ Name: '' }, 400, /^Name must be 1–64 characters/, 'Name'],
      [{ Ip: 'not a host!' }, 400, /^Ip must be a host name or IP address/, 'Ip'],
      [{ Passwd: '' }, 400, /^Passwd must be 1–255 characters/, 'Passwd'],
      [{ TransId: '00000000-0000-4000-8000-000000000000' }, 404, /^TransId names no transport server/, 'TransId'],
      [{ Passwd: 'hunter2-wrong' }, 502, /log in as user: InvalidLogin: .*\(check UserName and Passwd\)$/, 'Passwd'],
      [{ CertThumbprint: 'AB:CD' }, 400, /^CertThumbprint must be a SHA-256 thumbprint/, 'CertThumbprint'],
      [{ CertThumbprint: Array(32).fill('AB').join(':') }, 502, /has the SHA-256 thumbprint .*, not AB:AB:.* as given/, 'CertThumbprint'],
    ];
    for (const [fields, status, message] of cases) {
      const r = await add(fields);
      expect(r.status, JSON.stringify(fields)).toBe(status);
      expect(r.body.Code).toBe(-1);
      expect(r.body.Msg).toMatch(message);
      expect(r.text).not.toContain('hunter2');
    }
    expect(await platformCount()).toBe(0);
  });

  it('adds a vCenter: the whole tree is stored; VMs sharing a UUID answer Code 1 with Name, EsxiHost, Uuid', async () => {
    const added = await add();
    expect(added.status).toBe(200);
    expect(added.body.Code).toBe(1);
    expect(added.body.Data).toHaveLength(2);
    const [a, b] = added.body.Data;
    expect(a).toEqual({ Name: expect.any(String), EsxiHost: expect.any(String), Uuid: b.Uuid });
    expect(a.Name).not.toBe(b.Name);

    const hosts = await call({ Action: 'ListHosts' });
    expect(hosts.body.Data.VSPlatforms).toEqual([{ ID: expect.any(String), Name: 'vc-1', Ip: vc.url, IsVcenter: true, CreatedTime: expect.any(String) }]);
    expect(hosts.body.Data.AgentHosts).toEqual([]);
    platformId = hosts.body.Data.VSPlatforms[0].ID;
    const again = await add({ Name: 'vc-1-again' });
    expect(again.status).toBe(409);
    expect(again.body.Msg).toMatch(/already added \("vc-1"\)/);
  });

  it('lists the documented tree: datacenters, standalone hosts, clusters and hosts with their VMs, nested VM folders', async () => {
    const [platform, ...others] = await tree();
    expect(others).toEqual([]);
    expect(platform).toMatchObject({ ID: platformId, Name: 'vc-1', IsVcenter: true });
    expect(platform.DataCenters.map((d: any) => d.Name)).toEqual(['DC0', 'DC1']);
    for (const dc of platform.DataCenters) {
      expect(dc.Clusters.map((c: any) => c.Name)).toEqual([`${dc.Name}_C0`]);
      expect(dc.Clusters[0].PhyHosts).toHaveLength(2);
      expect(dc.PhyHosts).toHaveLength(1);
      expect(depth(dc.VmGroups)).toBeGreaterThanOrEqual(3);
    }
    // every VM once under the hosts, and those in folders once in the folder tree
    const onHosts = vmsOnHosts([platform]);
    expect(onHosts).toHaveLength(vc.counts.vms);
    expect(new Set(onHosts.map((v) => v.Id)).size).toBe(vc.counts.vms);
    const inGroups = platform.DataCenters.flatMap((d: any) => vmsInGroups(d.VmGroups));
    expect(inGroups.length).toBeGreaterThan(0);
    expect(inGroups.every((v: VT) => onHosts.some((h) => h.Id === v.Id))).toBe(true);

    // the data, checked against what vcsim itself says
    const session = await VimSession.open({ address: vc.url, userName: vc.username, password: vc.password, pinnedSha256: vc.sha256 });
    const truth = await readInventory(session);
    await session.close();
    for (const vm of truth.vms) {
      const shown = onHosts.find((v) => v.Name === vm.name)!;
      expect(shown, vm.name).toMatchObject({ Agent: false, VMHostUuid: vm.uuid, CPU: vm.cpus, Memory: vm.memoryMB * 1024 * 1024 });
      expect(shown.VolumeInfos.map((d) => [d.Path, d.Capacity])).toEqual(vm.disks.map((d) => [d.fileName, d.capacityBytes]));
      expect(shown.VolumeInfos[0].UseType).toBe('boot');
      expect(shown.NetInterfaces.map((n) => n.Mac)).toEqual(vm.nics.map((n) => n.mac).sort());
    }
  });

  it('refresh applies what changed in vCenter: a renamed or moved VM keeps its id, a destroyed one goes, a clone appears', async () => {
    const before = vmsOnHosts(await tree());
    const session = await VimSession.open({ address: vc.url, userName: vc.username, password: vc.password, pinnedSha256: vc.sha256 });
    const inv = await readInventory(session);
    const shared = new Set(inv.vms.filter((v) => inv.vms.filter((o) => o.uuid === v.uuid).length > 1).map((v) => v.moref));
    const [renamed, destroyed, cloned, moved] = inv.vms.filter((v) => !shared.has(v.moref));
    const target = inv.folders.find((f) => f.datacenter === moved.datacenter && f.moref !== moved.folder)!;
    const vm = (v: { moref: string }) => ({ type: 'VirtualMachine', value: v.moref });
    await runTask(session, 'Rename_Task', vm(renamed), textXml('newName', 'renamed-vm'), 'rename');
    await runTask(session, 'PowerOffVM_Task', vm(destroyed), '', 'power off');
    await runTask(session, 'Destroy_Task', vm(destroyed), '', 'destroy');
    const parent = moRef((await retrieveOne(session, vm(cloned), ['parent'])).get('parent'))!;
    await runTask(session, 'CloneVM_Task', vm(cloned), moRefXml('folder', parent) + textXml('name', 'clone-1') + '<spec><location/><template>false</template><powerOn>false</powerOn></spec>', 'clone');
    await runTask(session, 'MoveIntoFolder_Task', { type: 'Folder', value: target.moref }, moRefXml('list', vm(moved)), 'move');
    await session.close();

    const refreshed = await call({ Action: 'RefreshVSPlatform', ID: platformId });
    expect(refreshed.body).toEqual({ Code: 0, Msg: `Refresh VSPlatform Success. ${vc.counts.vms} VMs: 1 new, 1 gone, 1 renamed, 1 moved.`, Data: null });
    const after = await tree();
    const vms = vmsOnHosts(after);
    const id = (name: string, list: VT[]) => list.find((v) => v.Name === name)?.Id;
    expect(id('renamed-vm', vms)).toBe(id(renamed.name, before));
    expect(id(destroyed.name, vms)).toBeUndefined();
    expect(id('clone-1', vms)).toEqual(expect.any(String));
    expect(id(moved.name, vms)).toBe(id(moved.name, before));
    const groupOf = (groups: Group[], name: string): string | undefined => {
      for (const g of groups) {
        if (g.VTs.some((v) => v.Name === name)) return g.Name;
        const inner = groupOf(g.VmGroups, name);
        if (inner) return inner;
      }
      return undefined;
    };
    expect(groupOf(after[0].DataCenters.flatMap((d: any) => d.VmGroups), moved.name)).toBe(target.name);
  });

  it('keeps a VM that vCenter lost while a task uses it, flagged missing, and refuses to delete the platform then', async () => {
    // agentless tasks are not made through the API yet: the task row is written as the engine would hold it
    const sql = t.ferry.db.orm.em.getConnection();
    const [vm] = vmsOnHosts(await tree()).filter((v) => v.Name !== 'renamed-vm' && v.Name !== 'clone-1');
    const cloudId = '11111111-1111-4111-8111-111111111111';
    await sql.execute(`insert into cloud_connections (id, name, cloud_type, cloud_user, cloud_pass_sealed, cloud_addr) values (?, 'c', 'Openstack', 'u', 'v1.unused', '127.0.0.1')`, [cloudId]);
    await sql.execute(
      `insert into tasks (id, name, source_host_id, cloud_id, target_transport_id, interval_minutes, max_snaps_num, start_time, action_state) values (?, 'move-vm', ?, ?, ?, 60, 3, now() + interval '1 day', 1000)`,
      ['22222222-2222-4222-8222-222222222222', vm.Id, cloudId, transId],
    );
    const session = await VimSession.open({ address: vc.url, userName: vc.username, password: vc.password, pinnedSha256: vc.sha256 });
    const moref = (await readInventory(session)).vms.find((v) => v.name === vm.Name)!.moref;
    await runTask(session, 'PowerOffVM_Task', { type: 'VirtualMachine', value: moref }, '', 'power off');
    await runTask(session, 'Destroy_Task', { type: 'VirtualMachine', value: moref }, '', 'destroy');
    await session.close();

    const refreshed = await call({ Action: 'RefreshVSPlatform', ID: platformId });
    expect(refreshed.body.Msg).toMatch(new RegExp(`0 gone, 0 renamed, 0 moved, 1 gone but kept for their tasks \\(${vm.Name}\\)\\.$`));
    const [row] = await sql.execute(`select missing from source_hosts where id = ?`, [vm.Id]);
    expect(row.missing).toBe(true);
    const refused = await call({ Action: 'DeleteVSPlatform', ID: platformId });
    expect(refused.status).toBe(409);
    expect(refused.body.Msg).toBe('VMs of platform "vc-1" are in tasks ("move-vm"): delete those tasks first.');
    await sql.execute(`delete from tasks where name = 'move-vm'`);
    await sql.execute(`delete from cloud_connections where id = ?`, [cloudId]);
  });

  it('deletes the platform with its tree', async () => {
    const deleted = await call({ Action: 'DeleteVSPlatform', ID: platformId });
    expect(deleted.body).toMatchObject({ Code: 0, Msg: 'Delete VSPlatform Success.' });
    expect(await tree()).toEqual([]);
    const left = await t.ferry.db.orm.em.getConnection().execute(`select (select count(*) from source_hosts) as hosts, (select count(*) from vsphere_folders) as folders, (select count(*) from vsphere_datacenters) as dcs`);
    expect(left[0]).toEqual({ hosts: '0', folders: '0', dcs: '0' });
    expect((await call({ Action: 'DeleteVSPlatform', ID: platformId })).status).toBe(404);
  });
});
