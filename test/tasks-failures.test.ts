import { open } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyTime } from '../src/rest/legacy-time.js';
import { openstackOperator, type OpenStackOperator } from './support/openstack-client.js';
import { startTaskWorld, type TaskWorld } from './support/task-fixture.js';
import { until } from './support/wait.js';

const MiB = 1024 * 1024;
/** the ext4 superblock of the test boot disk: its partition starts at sector 2048, the superblock 1 KiB in */
const SUPERBLOCK = { offset: MiB + 1024, length: 1024 };

async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, offset);
    return buf;
  } finally {
    await handle.close();
  }
}

async function writeAt(file: string, offset: number, bytes: Buffer): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Each step of a task failing in the cloud or on the transport, as they fail for real (quotas,
 * a disk the conversion cannot read, a compute host without room), then ContinueTask resuming
 * from the step that failed once the cause is gone, without redoing what was finished.
 */
describe('a task whose steps fail, continued with ContinueTask', () => {
  let w: TaskWorld;
  let cloud: OpenStackOperator;
  let taskId: string;
  const detail = async () => (await w.call({ Action: 'GetTaskDetail', Id: taskId })).body.Data;
  const messages = async () => ((await w.call({ Action: 'DisplayTaskHistory', Id: taskId })).body.Data as { Msg: string }[]).map((e) => e.Msg);
  const count = (log: string[], pattern: RegExp) => log.filter((m) => pattern.test(m)).length;
  const inError = async () => (await detail()).ActionState === 1003;
  const continueTask = async () => {
    const r = await w.call({ Action: 'ContinueTask', Id: taskId });
    expect(r.body, r.text).toMatchObject({ Code: 0, Msg: 'Continue Task Success.' });
  };
  const used = async () => (await w.call({ Action: 'GetLicense' }, '/MgntSetting')).body.Data.Used;
  const prepare = (fields: Record<string, unknown>) =>
    w.call({
      Action: 'PrepareTaskWorkload',
      Name: 'move-web-1',
      HostId: w.hostId,
      CloudId: w.cloudId,
      TargetTransId: w.transportId,
      IntervalMinutes: 1,
      MaxSnapsNum: 2,
      NetworkId: w.networkId,
      FlavorId: '3',
      VolumeInfos: [
        { VolumeName: w.images.boot, VolumeSize: 1, CloudVolumeName: 'web-1-boot' },
        { VolumeName: w.images.data, VolumeSize: 1, CloudVolumeName: 'web-1-data' },
      ],
      ...fields,
    });

  beforeAll(async () => {
    // a compute host of 4 vCPUs: the transport's server takes 1
    w = await startTaskWorld({}, ['--host-vcpus', '4']);
    cloud = await openstackOperator(w.sim.url);
  }, 90_000);
  afterAll(async () => {
    await w?.close();
  });

  it('takes schedule changes until one minute before StartTime, then only name and priority; deleting before the start gives the credit back', async () => {
    const created = await prepare({ StartTime: legacyTime(new Date(Date.now() + 3_600_000)) });
    expect(created.body, created.text).toMatchObject({ Code: 0 });
    taskId = created.body.Data.ID;
    expect(await used()).toBe(1);
    const typeBefore = (await detail()).SourceHost.VolumeInfos[1].VolumeType;

    const early = await w.call({ Action: 'UpdateTask', Id: taskId, IntervalMinutes: 7, MaxSnapNum: 3, VolumeInfos: [{ VolumeName: w.images.data, VolumeType: 'hdd' }] });
    expect(early.body, early.text).toMatchObject({ Code: 0, Data: { ID: taskId } });
    const soon = new Date(Date.now() + 30_000);
    const moved = await w.call({ Action: 'UpdateTask', Id: taskId, StartTime: legacyTime(soon) });
    expect(moved.body, moved.text).toMatchObject({ Code: 0 });
    expect(await detail()).toMatchObject({ IntervalMinutes: 7, MaxSnapNumber: 3, StartTime: legacyTime(soon), ActionState: 1000 });
    const typeAfter = (await detail()).SourceHost.VolumeInfos[1].VolumeType;
    expect(typeAfter).toMatch(/./);
    expect(typeAfter).not.toBe(typeBefore);

    // StartTime is now less than a minute away: the schedule is frozen
    for (const [fields, field] of [
      [{ IntervalMinutes: 2 }, 'IntervalMinutes'],
      [{ StartTime: legacyTime(new Date(Date.now() + 3_600_000)) }, 'StartTime'],
      [{ MaxSnapNum: 5 }, 'MaxSnapNum'],
    ] as const) {
      const late = await w.call({ Action: 'UpdateTask', Id: taskId, ...fields });
      expect(late.status, JSON.stringify(fields)).toBe(409);
      expect(late.body.Msg).toMatch(new RegExp(`^${field} may change only until one minute before StartTime`));
    }
    const renamed = await w.call({ Action: 'UpdateTask', Id: taskId, Name: 'move-web-1-soon', Priority: 7 });
    expect(renamed.body).toMatchObject({ Code: 0 });
    expect(await detail()).toMatchObject({ Name: 'move-web-1-soon', Priority: 7, IntervalMinutes: 7 });

    const deleted = await w.call({ Action: 'DeleteTask', Id: taskId });
    expect(deleted.body.Msg).toMatch(/^Delete Task Success\. License credit given back; left in the cloud: nothing\./);
    expect(await used()).toBe(0);
  });

  it('creating the volumes over quota sets 1003; ContinueTask after the quota is raised finds the volume made before', async () => {
    await cloud.setVolumeQuota({ volumes: 1, snapshots: 1 });
    const created = await prepare({ StartTime: legacyTime(new Date(Date.now() - 60_000)) });
    taskId = created.body.Data.ID;
    await until(inError, 30_000);
    const log = await messages();
    expect(log.at(-1)).toMatch(/→ in error \(1003\)[^:]*: creating and attaching the cloud volumes failed: .*VolumeLimitExceeded: Maximum number of volumes allowed \(1\)/);
    const refused = await w.call({ Action: 'CompleteTask', Id: taskId });
    expect(refused.status).toBe(409);

    await cloud.setVolumeQuota({ volumes: 20 });
    await continueTask();
    // the copy runs; its snapshot then meets the snapshot quota (1 for 2 volumes)
    await until(inError, 60_000);
    const after = await messages();
    expect(after.at(-1)).toMatch(/→ in error \(1003\)[^:]*: taking the snapshot failed: .*SnapshotLimitExceeded/);
    // the boot volume made before the failure is found by name, not made twice
    expect(count(after, /cloud volume web-1-boot found for/)).toBe(1);
    expect(count(after, /cloud volume web-1-data created for/)).toBe(1);
    expect(count(after, /full copy 1 started/)).toBe(1);
    expect(count(after, /copy 1 finished/)).toBe(1);
    const volumes = (await cloud.volume('GET', '/volumes/detail')).body.volumes.filter((v: { name: string }) => v.name.startsWith('ferry-') || v.name.startsWith('web-1'));
    expect(volumes).toHaveLength(2);
  });

  it('a snapshot over quota is taken on ContinueTask without copying again or snapshotting a volume twice', async () => {
    await cloud.setVolumeQuota({ snapshots: 20 });
    await continueTask();
    await until(async () => (await detail()).ActionState === 1002, 30_000);
    const log = await messages();
    expect(count(log, /full copy 1 started/)).toBe(1);
    expect(count(log, /snapshot of copy 1 taken \(2 volumes\)/)).toBe(1);
    const snapshots = (await cloud.volume('GET', '/snapshots/detail')).body.snapshots as { name: string; volume_id: string }[];
    const ofCopy1 = snapshots.filter((s) => /-copy1-disk/.test(s.name));
    expect(ofCopy1).toHaveLength(2);
    expect(new Set(ofCopy1.map((s) => s.volume_id)).size).toBe(2);
  });

  it('a boot disk the conversion cannot read sets 1003 until it is repaired; the final sync is not run again', async () => {
    await until(async () => (await detail()).SnapTimes >= 2 && (await detail()).ActionState === 1002, 30_000);
    const superblock = await readAt(w.images.boot, SUPERBLOCK.offset, SUPERBLOCK.length);
    await writeAt(w.images.boot, SUPERBLOCK.offset, Buffer.alloc(SUPERBLOCK.length));
    expect((await w.call({ Action: 'CompleteTask', Id: taskId })).body.Code).toBe(true);
    await until(inError, 60_000);
    expect(await detail()).toMatchObject({ LastSync: 2 });
    expect((await messages()).at(-1)).toMatch(/→ in error \(1003\)[^:]*: the conversion failed: conversion of the boot disk failed: the boot disk .* holds no filesystem Ferry recognises/);

    // continued while the disk is still broken: the conversion runs again and fails again
    await continueTask();
    await until(async () => count(await messages(), /continued from convert/) === 1 && (await inError()), 30_000);
    expect(count(await messages(), /in error \(1003\)[^:]*: the conversion failed:/)).toBe(2);

    // an operator repairs the cloud volume (the migrated disk), then continues
    const [boot] = await w.t.ferry.db.orm.em.getConnection().execute<{ device: string }[]>(`select device from task_volumes where task_id = ? and boot`, [taskId]);
    await writeAt(boot.device, SUPERBLOCK.offset, superblock);
    await writeAt(w.images.boot, SUPERBLOCK.offset, superblock);
    await continueTask();
    await until(async () => (await detail()).ActionState === 1007, 30_000);
    const log = await messages();
    expect(count(log, /final sync started/)).toBe(1);
    expect(count(log, /^boot disk checked, not converted$/)).toBe(1);
  });

  it('a server that goes to ERROR (no compute host has room) sets 1003; ContinueTask deletes it and boots one, found by name after a crash', async () => {
    const filler = await cloud.bootServer('filler', '3', w.networkId); // 2 vCPUs: 3 of 4 now taken
    const create = await w.call({ Action: 'CreateInstance', Id: taskId, FlavorId: '3', NetworkId: w.networkId });
    expect(create.body, create.text).toMatchObject({ Code: 0 });
    await until(inError, 30_000);
    expect((await messages()).at(-1)).toMatch(/→ in error \(1003\)[^:]*: booting the server failed: the migrated server web-1 went to ERROR: No valid host was found/);
    const failed = await cloud.serversNamed('web-1');
    expect(failed).toEqual([{ id: expect.any(String), status: 'ERROR' }]);

    expect((await cloud.compute('DELETE', `/servers/${filler}`)).status).toBe(204);
    await continueTask();

    // Ferry "crashes" right after Nova accepted the new server, before its commit: the row is as
    // it was before the step (no server recorded, boot due). The boot step must find that server
    // by name and wait for it, not boot a second one.
    const sql = w.t.ferry.db.orm.em.getConnection();
    await until(async () => {
      const [row] = await sql.execute<{ target_server_id: string | null; step: string }[]>(`select target_server_id, step from tasks where id = ?`, [taskId]);
      return row.step === 'await-server' && row.target_server_id !== null && row.target_server_id !== failed[0].id;
    }, 10_000);
    const rewound = await sql.execute(`update tasks set target_server_id = null, step = 'boot', due_at = now() where id = ? and step = 'await-server' returning id`, [taskId]);
    expect(rewound).toHaveLength(1);

    await until(async () => (await detail()).ActionState === 1009, 30_000);
    expect(count(await messages(), /server web-1 \(.*\) found, made before a restart/)).toBe(1);
    const servers = await cloud.serversNamed('web-1');
    expect(servers).toEqual([{ id: expect.any(String), status: 'ACTIVE' }]);
    expect(servers[0].id).not.toBe(failed[0].id);
    const instance = await w.call({ Action: 'GetInstance', Id: taskId });
    expect(instance.body.Data).toMatchObject({ ID: servers[0].id, Name: 'web-1' });
    expect(count(await messages(), /server web-1 .* deleted/)).toBe(1);
  });
});
