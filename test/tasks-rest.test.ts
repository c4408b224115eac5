import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyTime } from '../src/rest/legacy-time.js';
import { sameBytes, scribble, startTaskWorld, type TaskWorld } from './support/task-fixture.js';
import { until } from './support/wait.js';

const MiB = 1024 * 1024;

describe('a migration task through the legacy REST API, on real processes', () => {
  let w: TaskWorld;
  let taskId: string;
  const detail = async () => (await w.call({ Action: 'GetTaskDetail', Id: taskId })).body.Data;
  const history = async () => (await w.call({ Action: 'DisplayTaskHistory', Id: taskId })).body.Data as { Number: number; Msg: string }[];
  /** the cloud volume files, by source path */
  const volumeFiles = async () => {
    const rows = await w.t.ferry.db.orm.em.getConnection().execute<{ volume_name: string; device: string | null; cloud_volume_id: string }[]>(`select volume_name, device, cloud_volume_id from task_volumes where task_id = ? order by position`, [taskId]);
    return rows;
  };
  const prepare = (fields: Record<string, unknown> = {}) =>
    w.call({
      Action: 'PrepareTaskWorkload',
      Name: 'move-web-1',
      Priority: 5,
      HostId: w.hostId,
      CloudId: w.cloudId,
      TargetTransId: w.transportId,
      IntervalMinutes: 1,
      MaxSnapsNum: 2,
      StartTime: legacyTime(new Date(Date.now() - 60_000)),
      NetworkId: w.networkId,
      VolumeInfos: [
        { VolumeName: w.images.boot, VolumeType: 'ssd', VolumeSize: '1', CloudVolumeName: 'web-1-boot' },
        { VolumeName: w.images.data, VolumeSize: 1, CloudVolumeName: 'web-1-data' },
      ],
      ...fields,
    });

  beforeAll(async () => {
    w = await startTaskWorld();
  }, 90_000);
  afterAll(async () => {
    await w?.close();
  });

  it('refuses bad input naming the field and the rule, and creates nothing', async () => {
    const cases: [Record<string, unknown>, number, string | RegExp][] = [
      [{ Name: '' }, 400, /^Name must be 1–64 characters/],
      [{ IntervalMinutes: 0 }, 400, /^IntervalMinutes must be a whole number of minutes from 1/],
      [{ MaxSnapsNum: 0 }, 400, /^MaxSnapsNum must be a whole number from 1/],
      [{ StartTime: 'tomorrow' }, 400, /^StartTime must be a time as YYYY-MM-DD HH:MM/],
      [{ HostId: '00000000-0000-4000-8000-000000000000' }, 404, /^HostId names no source host/],
      [{ VolumeInfos: [{ VolumeName: '/dev/nope' }] }, 400, /^VolumeName "\/dev\/nope" is not a disk of the host/],
      [{ VolumeInfos: [{ VolumeName: w.images.boot, VolumeSize: 0 }] }, 400, /^VolumeSize of .* must be a whole number of GB from 1/],
      [{ VolumeInfos: [{ VolumeName: w.images.boot, VolumeType: 'gold' }] }, 400, /^VolumeType "gold" is not a volume type of the cloud/],
      [{ FlavorId: 'f1', CPU: 2, Memory: 4 }, 400, /^Give either FlavorId or CPU and Memory/],
      [{ CPU: 0, Memory: 4 }, 400, /^CPU must be a whole number from 1 to 1024 \(got 0\)/],
      [{ NetworkId: 'no-such-net' }, 400, /^NetworkId "no-such-net" is not a network of the cloud/],
    ];
    for (const [fields, status, message] of cases) {
      const r = await prepare(fields);
      expect(r.status, JSON.stringify(fields)).toBe(status);
      expect(r.body.Code).toBe(-1);
      expect(r.body.Msg).toMatch(message);
    }
    const listed = await w.call({ Action: 'ListTasks' });
    expect(listed.body.Data).toMatchObject({ AgentTasks: [], TaskTotal: 0 });
  });

  it('answers Code 1 and 2 with the names already taken in the cloud', async () => {
    const server = await prepare({ TargetServerName: 'ferry-transport' });
    expect(server.body).toEqual({ Code: 1, Msg: expect.stringMatching(/server named "ferry-transport" already exists/), Data: { ID: '', Repeated: ['ferry-transport'] } });
    const check = await w.call({ Action: 'CheckTargetHostInfoExisting', CloudId: w.cloudId, TaskName: 'x', TargetServerName: 'ferry-transport', CloudVolumeNames: ['free-name'] });
    expect(check.body).toMatchObject({ Code: 1, Data: { TaskNameExisted: '', ServerNameExisted: 'ferry-transport', VolumeNameExisted: [], IpExisted: [] } });
  });

  it('copies in full, then increments, keeps MaxSnapsNum snapshots, and shows progress', async () => {
    const created = await prepare();
    expect(created.body).toMatchObject({ Code: 0, Data: { ID: expect.any(String), Repeated: [] } });
    taskId = created.body.Data.ID;
    const again = await prepare({ Name: 'move-web-1-again' });
    expect(again.status).toBe(409);
    expect(again.body.Msg).toBe('Source host "web-1" is already being migrated by task "move-web-1".');

    await until(async () => (await detail()).ActionState === 1002, 30_000);
    const first = await detail();
    expect(first).toMatchObject({ SnapTimes: 1, ProgressPrecent: '100%', SnapshotSize: 80 * MiB, TransferedSize: 80 * MiB, LastSync: 0, MaxSnapNumber: 2 });
    const files = await volumeFiles();
    expect(files.map((f) => f.volume_name)).toEqual([w.images.boot, w.images.data]);
    expect(await sameBytes(w.images.boot, files[0].device!)).toBe(true);
    expect(await sameBytes(w.images.data, files[1].device!)).toBe(true);

    // the source changes between copies; the next copies carry the change
    await scribble(w.images.data, 9 * MiB);
    await until(async () => {
      const d = await detail();
      return d.SnapTimes >= 3 && d.ActionState === 1002;
    }, 60_000);
    const snapshots = await w.call({ Action: 'ListSnapshots', Id: taskId });
    expect(snapshots.body.Data).toHaveLength(2);
    const log = (await history()).map((e) => e.Msg).join('\n');
    expect(log).toMatch(/full copy 1 started/);
    expect(log).toMatch(/incremental copy 2 started/);
    expect(log).toMatch(/snapshot of copy 1 deleted \(at most 2 kept\)/);

    const listed = await w.call({ Action: 'ListTasks', PageLimit: 10, PageNum: 1 });
    expect(listed.body.Data).toMatchObject({ TaskTotal: 1, TaskInProcess: 1, TaskDone: 0, VSTasks: [] });
    expect(listed.body.Data.AgentTasks[0]).toMatchObject({ Name: 'move-web-1', Id: taskId, HostName: 'web-1', HostAddr: w.agent.addr, Agent: true });
  });

  it('refuses schedule changes after StartTime but takes a new name and priority', async () => {
    const late = await w.call({ Action: 'UpdateTask', Id: taskId, IntervalMinutes: 5 });
    expect(late.status).toBe(409);
    expect(late.body.Msg).toMatch(/^IntervalMinutes may change only until one minute before StartTime/);
    const renamed = await w.call({ Action: 'UpdateTask', Id: taskId, Name: 'move-web-1b', Priority: 9 });
    expect(renamed.body).toMatchObject({ Code: 0, Data: { ID: taskId } });
    expect(await detail()).toMatchObject({ Name: 'move-web-1b', Priority: 9 });
  });

  it('completes: final sync, conversion, then creates the instance from the volumes', async () => {
    await scribble(w.images.boot, 40 * MiB);
    const completed = await w.call({ Action: 'CompleteTask', Id: taskId });
    expect(completed.body).toEqual({ Code: true, Msg: 'Complete Task Success.', Data: null });
    await until(async () => (await detail()).ActionState === 1007, 30_000);
    expect(await detail()).toMatchObject({ LastSync: 2 });
    const files = await volumeFiles();
    expect(await sameBytes(w.images.boot, files[0].device!)).toBe(true);
    expect(await sameBytes(w.images.data, files[1].device!)).toBe(true);
    expect((await history()).map((e) => e.Msg).join('\n')).toMatch(/the boot disk was not converted/);

    const early = await w.call({ Action: 'GetInstance', Id: taskId });
    expect(early.status).toBe(404);
    const create = await w.call({ Action: 'CreateInstance', Id: taskId, FlavorId: w.flavorId, NetworkId: w.networkId });
    expect(create.body, create.text).toMatchObject({ Code: 0, Data: { ID: taskId } });
    await until(async () => (await detail()).ActionState === 1009, 30_000);
    const instance = await w.call({ Action: 'GetInstance', Id: taskId });
    expect(instance.body).toMatchObject({ Code: true, Data: { ID: expect.any(String), Name: 'web-1' } });
    expect((await detail()).TargetHost).toMatchObject({ ServerID: instance.body.Data.ID, ServerName: 'web-1', Flavor: w.flavorId });

    const numbers = (await history()).map((e) => e.Number);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
  });

  it('deletes the task: the credit stays used (the server exists) and the answer lists what stays in the cloud', async () => {
    const deleted = await w.call({ Action: 'DeleteTask', Id: taskId });
    expect(deleted.body.Code).toBe(true);
    expect(deleted.body.Msg).toMatch(/^Delete Task Success\. License credit kept \(the server was migrated\); left in the cloud: volume web-1-boot .*server web-1/);
    expect((await w.call({ Action: 'GetTaskDetail', Id: taskId })).status).toBe(404);
    const license = await w.call({ Action: 'GetLicense' }, '/MgntSetting');
    expect(license.body.Data).toMatchObject({ Credits: 3, Used: 1 });
  });
});
