import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VimSession } from '../src/drivers/vsphere/vim-session.js';
import { createSnapshot, listSnapshots } from '../src/drivers/vsphere/vm-snapshots.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import { legacyTime } from '../src/rest/legacy-time.js';
import type { CycleStatus } from '../src/transport/protocol.js';
import { graphql } from './support/clients.js';
import { TaskDeleteDocument, TaskPrepareDocument } from './generated/graphql.js';
import { makeBootDisk, sameBytes, scribble, startTaskWorld, type TaskWorld } from './support/task-fixture.js';
import { spawnVcsim, type VcsimProcess } from './support/vcsim.js';
import { until } from './support/wait.js';

const MiB = 1024 * 1024;

describe('an agentless task: a vSphere VM copied from its datastore through the transport', () => {
  let w: TaskWorld;
  let vc: VcsimProcess;
  let session: VimSession;
  let platformId: string;
  let vm: { id: string; name: string; vm_moref: string; path: string };
  let flatFile: string;
  let taskId: string;
  const detail = async () => (await w.call({ Action: 'GetTaskDetail', Id: taskId })).body.Data;
  const history = async () => ((await w.call({ Action: 'DisplayTaskHistory', Id: taskId })).body.Data as { Msg: string }[]).map((e) => e.Msg).join('\n');
  const device = async () => (await w.t.ferry.db.orm.em.getConnection().execute<{ device: string }[]>(`select device from task_volumes where task_id = ?`, [taskId]))[0].device;
  /** the transport's own record of each copy of the task */
  const cycles = async (): Promise<CycleStatus[]> => {
    const dir = path.join(w.dir, 'transport', 'cycles');
    const files = (await readdir(dir)).filter((f) => f.startsWith(taskId) && f.endsWith('.json'));
    return Promise.all(files.map(async (f) => (JSON.parse(await readFile(path.join(dir, f), 'utf8')) as { status: CycleStatus }).status));
  };
  const snapshotsOfVm = () => listSnapshots(session, { type: 'VirtualMachine', value: vm.vm_moref });

  beforeAll(async () => {
    [w, vc] = await Promise.all([startTaskWorld(), spawnVcsim({ clusters: 1, clusterHosts: 1, hosts: 1, vms: 1, diskMb: 64 })]);
    session = await VimSession.open({ address: vc.url, userName: vc.username, password: vc.password, pinnedSha256: vc.sha256 });
    const added = await w.call({ Action: 'AddVSPlatform', Name: 'vc-1', Ip: vc.url, UserName: vc.username, Passwd: vc.password, TransId: w.transportId }, '/portal/MgmtHostConnection');
    if (added.body.Code !== 0) throw new Error(`AddVSPlatform failed: ${added.text}`);
    platformId = added.body.Data.ID;
    [vm] = await w.t.ferry.db.orm.em.getConnection().execute(
      `select h.id, h.name, h.vm_moref, v.path from source_hosts h join host_volumes v on v.host_id = h.id where not h.agent and h.name = 'DC0_H0_VM0'`,
    );
    const [, datastore, file] = /^\[(.+)\] (.+)$/.exec(vm.path)!;
    flatFile = path.join(vc.datastores.find((d) => d.datacenter === 'DC0' && d.name === datastore)!.path, file.replace(/\.vmdk$/, '-flat.vmdk'));
    makeBootDisk(flatFile); // the VM's disk: MBR, a bootable ext4 partition
    await scribble(flatFile, 60 * MiB, MiB);
  }, 120_000);
  afterAll(async () => {
    await session?.close();
    await vc?.stop();
    await w?.close();
  });

  it('copies the VM in full, then only what changed-block tracking reports, each copy from a VM snapshot removed afterwards', async () => {
    const created = await w.call({
      Action: 'PrepareTaskWorkload',
      Name: 'move-vm',
      HostId: vm.id,
      CloudId: w.cloudId,
      TargetTransId: w.transportId,
      IntervalMinutes: 1,
      MaxSnapsNum: 2,
      StartTime: legacyTime(new Date(Date.now() - 60_000)),
      NetworkId: w.networkId,
    });
    expect(created.body, created.text).toMatchObject({ Code: 0, Data: { ID: expect.any(String) } });
    taskId = created.body.Data.ID;

    await until(async () => (await detail()).ActionState === 1002, 30_000);
    expect(await detail()).toMatchObject({ SnapTimes: 1, ProgressPrecent: '100%', Agent: false, SourceHost: { Name: 'DC0_H0_VM0', Agent: false, VmwareIp: vc.url, VmwareUser: vc.username } });
    expect(await sameBytes(flatFile, await device())).toBe(true);

    await scribble(flatFile, 40 * MiB);
    const changedAt = (await detail()).SnapTimes;
    await until(async () => {
      const d = await detail();
      return d.SnapTimes >= changedAt + 2 && d.ActionState === 1002;
    }, 60_000);
    expect(await sameBytes(flatFile, await device())).toBe(true);

    const log = await history();
    expect(log).toMatch(/VM snapshot "ferry-[0-9a-f-]+-copy1" taken; the transport reads from the datastore: \[LocalDS_0\] DC0_H0_VM0\/disk1\.vmdk: the whole disk\n/);
    expect(log).toMatch(/VM snapshot of copy 1 removed/);
    expect(log).toMatch(/-copy\d+" taken; the transport reads from the datastore: \[LocalDS_0\] DC0_H0_VM0\/disk1\.vmdk: 1\.0 MiB changed of 64 MiB \(changed-block tracking\)/);
    // the full copy downloads the whole disk; increments only what changed-block tracking reports changed
    const runs = (await cycles()).filter((c) => c.state === 'finished');
    expect(runs.find((c) => c.kind === 'full')!.disks[0]).toMatchObject({ sizeBytes: 64 * MiB, wireBytes: 64 * MiB });
    const increments = runs.filter((c) => c.kind === 'incremental');
    expect(increments.length).toBeGreaterThanOrEqual(2);
    for (const c of increments) expect([0, MiB]).toContain(c.disks[0].wireBytes);
    expect(increments.filter((c) => c.disks[0].wireBytes === MiB).map((c) => c.disks[0].sentBlocks)).toEqual([1]);

    // a change id vSphere does not know (tracking reset on the VM): that copy reads the disk whole, the next ones track again
    // (set again until a copy started with it: a copy finishing meanwhile records its own change id)
    await until(async () => {
      const log = await history();
      if (!/answered InvalidArgument/.test(log)) await w.t.ferry.db.orm.em.getConnection().execute(`update task_volumes set cbt_change_id = '52 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00/9' where task_id = ?`, [taskId]);
      return /changed-block tracking answered InvalidArgument\)\n(.*\n)*.*-copy\d+" taken; .*0\.0 MiB changed of 64 MiB/.test(log);
    }, 30_000);
    expect(await sameBytes(flatFile, await device())).toBe(true);
  });

  it('lists the task under VSTasks, grouped by its platform', async () => {
    const listed = await w.call({ Action: 'ListTasks' });
    expect(listed.body.Data).toMatchObject({ AgentTasks: [], TaskTotal: 1, TaskInProcess: 1 });
    expect(listed.body.Data.VSTasks).toEqual([
      { ID: platformId, Name: 'vc-1', Ip: vc.url, IsVcenter: true, CreatedTime: expect.any(String), Tasks: [expect.objectContaining({ Id: taskId, Name: 'move-vm', HostName: 'DC0_H0_VM0', Agent: false })] },
    ]);
  });

  it('completes: the final sync, then the migrated server; no VM snapshot is left behind', async () => {
    await scribble(flatFile, 20 * MiB);
    const completed = await w.call({ Action: 'CompleteTask', Id: taskId });
    expect(completed.body.Code).toBe(true);
    await until(async () => (await detail()).ActionState === 1007, 30_000);
    expect(await sameBytes(flatFile, await device())).toBe(true);
    const create = await w.call({ Action: 'CreateInstance', Id: taskId, FlavorId: w.flavorId, NetworkId: w.networkId });
    expect(create.body, create.text).toMatchObject({ Code: 0 });
    await until(async () => (await detail()).ActionState === 1009, 30_000);
    expect((await detail()).TargetHost).toMatchObject({ ServerName: 'DC0_H0_VM0' });
    expect(await snapshotsOfVm()).toEqual([]);
  });

  it('on DeleteTask removes a snapshot a cut-short copy left, and only Ferry\'s', async () => {
    const ref = { type: 'VirtualMachine', value: vm.vm_moref };
    await createSnapshot(session, ref, 'before-migration', 'the owner\'s own');
    await createSnapshot(session, ref, `ferry-${taskId}-copy9`, 'as a copy cut short by a crash leaves it');
    const deleted = await w.call({ Action: 'DeleteTask', Id: taskId });
    expect(deleted.body.Code).toBe(true);
    expect((await snapshotsOfVm()).map((s) => s.name)).toEqual(['before-migration']);
  });

  it('refuses a VM whose platform the target transport cannot reach, creating nothing', async () => {
    const other = await spawnVcsim({ mode: 'esx', vms: 1 });
    const added = await w.call({ Action: 'AddVSPlatform', Name: 'esx-gone', Ip: other.url, UserName: other.username, Passwd: other.password, TransId: w.transportId }, '/portal/MgmtHostConnection');
    expect(added.body.Code, added.text).toBe(0);
    const [host] = await w.t.ferry.db.orm.em.getConnection().execute<{ id: string }[]>(`select h.id from source_hosts h where h.platform_id = ?`, [added.body.Data.ID]);
    await other.stop();
    const refused = await w.call({ Action: 'PrepareTaskWorkload', Name: 'move-esx-vm', HostId: host.id, CloudId: w.cloudId, TargetTransId: w.transportId, IntervalMinutes: 1, MaxSnapsNum: 1, StartTime: legacyTime(new Date()), NetworkId: w.networkId });
    expect(refused.status).toBe(502);
    expect(refused.body.Msg).toMatch(/^Transport server "cloud-transport" cannot reach 127\.0\.0\.1:\d+/);
    expect((await w.call({ Action: 'ListTasks' })).body.Data.TaskTotal).toBe(0);
  });

  it('takes a VirtualMachine node id as the source of taskPrepare (GraphQL)', async () => {
    const [other] = await w.t.ferry.db.orm.em.getConnection().execute<{ id: string }[]>(`select id from source_hosts where not agent and name = 'DC0_C0_RP0_VM0'`);
    const input = { name: 'gql-vm', sourceHostId: toGlobalId('VirtualMachine', other.id), cloudId: toGlobalId('Cloud', w.cloudId), targetTransportId: toGlobalId('TransportServer', w.transportId), intervalMinutes: 5, maxSnapsNum: 1, startTime: new Date(Date.now() + 3_600_000).toISOString(), networkId: w.networkId };
    const r = await graphql(w.t.url, TaskPrepareDocument, { input }, w.token);
    expect(r.data?.taskPrepare.userErrors, JSON.stringify(r)).toEqual([]);
    expect(r.data?.taskPrepare.task).toMatchObject({ name: 'gql-vm', actionState: 1000 });
    const deleted = await graphql(w.t.url, TaskDeleteDocument, { input: { taskId: r.data!.taskPrepare.task!.id } }, w.token);
    expect(deleted.errors).toBeUndefined();
  });

  it('without changed-block tracking, reads each increment whole and writes only the changed blocks', async () => {
    const esx = await spawnVcsim({ mode: 'esx', vms: 1, diskMb: 16, noCbt: true });
    try {
      const added = await w.call({ Action: 'AddVSPlatform', Name: 'esx-no-cbt', Ip: esx.url, UserName: esx.username, Passwd: esx.password, TransId: w.transportId }, '/portal/MgmtHostConnection');
      expect(added.body.Code, added.text).toBe(0);
      const [host] = await w.t.ferry.db.orm.em.getConnection().execute<{ id: string; path: string }[]>(`select h.id, v.path from source_hosts h join host_volumes v on v.host_id = h.id where h.platform_id = ?`, [added.body.Data.ID]);
      const [, datastore, file] = /^\[(.+)\] (.+)$/.exec(host.path)!;
      const flat = path.join(esx.datastores.find((d) => d.name === datastore)!.path, file.replace(/\.vmdk$/, '-flat.vmdk'));
      await scribble(flat, 2 * MiB, MiB);
      const created = await w.call({ Action: 'PrepareTaskWorkload', Name: 'move-esx-vm', HostId: host.id, CloudId: w.cloudId, TargetTransId: w.transportId, IntervalMinutes: 1, MaxSnapsNum: 1, StartTime: legacyTime(new Date(Date.now() - 60_000)), NetworkId: w.networkId });
      expect(created.body.Code, created.text).toBe(0);
      taskId = created.body.Data.ID;
      await until(async () => (await detail()).ActionState === 1002, 30_000);
      await scribble(flat, 9 * MiB);
      const changedAt = (await detail()).SnapTimes;
      await until(async () => (await detail()).SnapTimes >= changedAt + 2 && (await detail()).ActionState === 1002, 60_000);
      expect(await sameBytes(flat, await device())).toBe(true);
      expect(await history()).toMatch(/-copy2" taken; the transport reads from the datastore: .*: the whole disk \(the VM does not support changed-block tracking\)/);
      const increments = (await cycles()).filter((c) => c.state === 'finished' && c.kind === 'incremental');
      for (const c of increments) expect(c.disks[0]).toMatchObject({ wireBytes: 16 * MiB, sentBlocks: expect.toSatisfy((n: number) => n <= 1) });
      expect(increments.some((c) => c.disks[0].sentBlocks === 1)).toBe(true);
      expect((await w.call({ Action: 'DeleteTask', Id: taskId })).body.Code).toBe(true);
    } finally {
      await esx.stop();
    }
  });
});
