import { z } from 'zod';
import type { Task, TaskEvent, TaskSnapshot } from '../../../entities/index.js';
import { serverName } from '../../engine/names.js';
import { percentOf } from '../../engine/progress.js';
import type { InstanceSpec, NewTaskInput, TaskUpdateInput } from '../../services/tasks/task-input.js';
import type { TaskDeletion } from '../../services/tasks/task-service.js';
import { ok } from '../../services/errors.js';
import { action, type RestRoutes } from '../action.js';
import { text } from '../input.js';
import { legacyTime } from '../legacy-time.js';

/** Bounded strings whose rules (and messages) are the service's. */
const str = z.string().max(1024).optional();
/** The document shows integers; some callers send them as strings. */
const int = z.union([z.number(), z.string().regex(/^-?\d+$/, 'must be a whole number').transform(Number)]).optional();
const bool = z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False']).transform((b) => b.toLowerCase() === 'true')]).optional();
const taskId = z.object({ Id: text(64) });
const netInterfaces = z
  .array(z.object({ NetworkId: str, SecurityGroupId: str, Mac: str, SubNets: z.array(z.object({ SubnetId: str, Ip: str })).max(64).optional() }))
  .max(64)
  .optional();

const instanceFields = {
  FlavorId: str,
  NetworkId: str,
  SubnetId: str,
  RouteId: str,
  SecurityGroupId: str,
  AggregateId: str,
  CPU: int,
  Sockets: int,
  Memory: int,
  BandWidth: int,
  Bandwidth: int,
  TargetServerName: str,
  NetInterfaces: netInterfaces,
};
type InstanceBody = { [K in keyof typeof instanceFields]?: z.infer<(typeof instanceFields)[K]> };

const instanceOf = (b: InstanceBody): InstanceSpec => ({
  flavorId: b.FlavorId || undefined,
  networkId: b.NetworkId || undefined,
  subnetId: b.SubnetId || undefined,
  routeId: b.RouteId || undefined,
  securityGroupId: b.SecurityGroupId || undefined,
  aggregateId: b.AggregateId || undefined,
  cpu: b.CPU,
  sockets: b.Sockets,
  memory: b.Memory,
  bandwidth: b.BandWidth ?? b.Bandwidth ?? undefined,
  targetServerName: b.TargetServerName,
});

const prepareBody = z.object({
  Name: z.string().max(1024),
  Priority: int,
  HostId: text(64),
  CloudId: text(64),
  SrcTransId: str,
  TargetTransId: text(64),
  StorageId: str,
  IntervalMinutes: z.union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)]),
  MaxSnapsNum: int,
  MaxSnapNum: int,
  StartTime: z.string().max(64),
  IsCompressed: bool,
  QosLimit: int,
  VolumeInfos: z
    .array(z.object({ VolumeName: text(1024), VolumeType: str, VolumeSize: int, CloudVolumeName: str, PreAlloc: bool }))
    .max(64)
    .optional(),
  ...instanceFields,
});

const toNewTask = (b: z.infer<typeof prepareBody>): NewTaskInput => ({
  ...instanceOf(b),
  name: b.Name,
  priority: b.Priority,
  hostId: b.HostId,
  cloudId: b.CloudId,
  srcTransId: b.SrcTransId || undefined,
  targetTransId: b.TargetTransId,
  storageId: b.StorageId,
  intervalMinutes: b.IntervalMinutes,
  maxSnapsNum: b.MaxSnapsNum ?? b.MaxSnapNum ?? 3,
  startTime: b.StartTime,
  isCompressed: b.IsCompressed,
  qosLimit: b.QosLimit,
  volumes: (b.VolumeInfos ?? []).map((v) => ({ volumeName: v.VolumeName, volumeType: v.VolumeType || undefined, volumeSize: v.VolumeSize, cloudVolumeName: v.CloudVolumeName || undefined, preAlloc: v.PreAlloc })),
});

const updateBody = z.object({
  Id: text(64),
  Name: str,
  Priority: int,
  IntervalMinutes: int,
  MaxSnapNum: int,
  MaxSnapsNum: int,
  StartTime: z.string().max(64).optional(),
  VolumeInfos: z.array(z.object({ VolumeName: text(1024), VolumeType: text(255) })).max(64).optional(),
  ...instanceFields,
});

const toUpdate = (b: z.infer<typeof updateBody>): TaskUpdateInput => {
  const instance = Object.fromEntries(Object.entries(instanceOf(b)).filter(([, v]) => v !== undefined));
  return {
    ...instance,
    name: b.Name,
    priority: b.Priority,
    intervalMinutes: b.IntervalMinutes,
    maxSnapsNum: b.MaxSnapNum ?? b.MaxSnapsNum,
    startTime: b.StartTime,
    volumeTypes: b.VolumeInfos?.map((v) => ({ volumeName: v.VolumeName, volumeType: v.VolumeType })),
  };
};

/**
 * ListTasks' Data: the page's tasks of agent hosts in AgentTasks, those of vSphere VMs in
 * VSTasks, grouped by platform in the order of their first task on the page.
 */
const listing = (v: { tasks: Task[]; total: number; inProcess: number; done: number }) => {
  const platforms = new Map<string, { ID: string; Name: string; Ip: string; IsVcenter: boolean; CreatedTime: string; Tasks: ReturnType<typeof listed>[] }>();
  for (const t of v.tasks) {
    const platform = t.sourceHost.getEntity().platform?.getEntity();
    if (!platform) continue;
    if (!platforms.has(platform.id)) platforms.set(platform.id, { ID: platform.id, Name: platform.name, Ip: platform.ip, IsVcenter: platform.isVcenter, CreatedTime: legacyTime(platform.createdAt), Tasks: [] });
    platforms.get(platform.id)!.Tasks.push(listed(t));
  }
  return { AgentTasks: v.tasks.filter((t) => t.sourceHost.getEntity().agent).map(listed), VSTasks: [...platforms.values()], TaskTotal: v.total, TaskInProcess: v.inProcess, TaskDone: v.done };
};

/** One task of ListTasks' AgentTasks (and of a platform's Tasks in VSTasks), keys as documented. */
const listed = (t: Task) => ({
  Name: t.name,
  Id: t.id,
  HostName: t.sourceHost.getEntity().name,
  HostAddr: t.sourceHost.getEntity().mgntAddr ?? '',
  ProgressPrecent: `${percentOf(t)}%`,
  UpdatedTime: legacyTime(t.updatedAt),
  CreateTime: legacyTime(t.createdAt),
  StartTime: legacyTime(t.startTime),
  Status: t.status,
  ActionState: t.actionState,
  LastSync: t.lastSync,
  SnapTimes: t.snapTimes,
  Offline: t.sourceHost.getEntity().offline,
  Agent: t.sourceHost.getEntity().agent,
  PredictDoneTime: t.predictDoneSeconds == null ? 0 : Number(t.predictDoneSeconds),
  SnapshotSize: Number(t.snapshotSize),
  TransferedSize: Number(t.transferredSize),
});

/** GetTaskDetail's Data, keys in the documented order. */
const detail = (t: Task) => {
  const host = t.sourceHost.getEntity();
  const target = t.targetTransport.getEntity();
  const src = t.srcTransport?.getEntity();
  const platform = host.platform?.getEntity();
  return {
    Id: t.id,
    Name: t.name,
    Priority: t.priority,
    Type: host.offline ? 'offline' : 'online',
    Offline: host.offline,
    Agent: host.agent,
    CloudId: t.cloud.id,
    CloudName: t.cloud.getEntity().name,
    CloudType: t.cloud.getEntity().cloudType,
    IntervalMinutes: t.intervalMinutes,
    StartTime: legacyTime(t.startTime),
    SnapTimes: t.snapTimes,
    MaxSnapNumber: t.maxSnapsNum,
    ProgressPrecent: `${percentOf(t)}%`,
    PredictDoneTime: t.predictDoneSeconds == null ? 0 : Number(t.predictDoneSeconds),
    SnapshotSize: Number(t.snapshotSize),
    TransferedSize: Number(t.transferredSize),
    LastSync: t.lastSync,
    Status: t.status,
    ActionState: t.actionState,
    IsCompressed: t.isCompressed,
    QosBW: t.qosLimit,
    SourceHost: {
      Name: host.name,
      MgntAddr: host.mgntAddr ?? '',
      OsName: host.osName ?? '',
      Offline: host.offline,
      Agent: host.agent,
      VmwareIp: platform?.ip ?? '',
      VmwareUser: platform?.userName ?? '',
      HostUuid: host.vmUuid ?? '',
      VolumeInfos: t.volumes.getItems().map((v) => ({
        Path: v.volumeName,
        Size: `${v.volumeSizeGb}GB`,
        UseType: v.boot ? 'boot' : 'data',
        VolumeType: v.volumeType ?? '',
        CloudVolumeName: v.cloudVolumeName ?? '',
        StorageId: v.storageId ?? t.storageId ?? '',
        PreAlloc: String(v.preAlloc),
        PageSize: '',
        Compression: String(t.isCompressed),
        ReadCache: '',
        BandWidth: '',
        Iops: '',
      })),
      NetInterfaces: [],
    },
    TargetHost: {
      DataCenter: '',
      ServerID: t.targetServerId ?? '',
      ServerName: serverName(t),
      Flavor: t.flavorId ?? '',
      BandWidth: t.bandwidth ?? 0,
      Network: t.networkId ?? '',
      Subnet: t.subnetId ?? '',
      SecGroup: t.securityGroupId ?? '',
      CPU: t.cpu ?? 0,
      Sockets: t.sockets ?? 0,
      Memory: t.memory ?? 0,
      StorageId: t.storageId ?? '',
      AggregateId: t.aggregateId ?? '',
    },
    SrcTransHost: { Name: src?.name ?? '', MgntAddr: src?.mgntAddr ?? '' },
    TransHost: { Name: target.name, MgntAddr: target.mgntAddr, StorageId: target.storageId ?? '', StorageType: target.storageType ?? '' },
  };
};

const history = (events: TaskEvent[]) => events.map((e) => ({ Number: Number(e.seq), Msg: e.message, Timestamp: legacyTime(e.createdAt) }));
const snapshots = (list: TaskSnapshot[]) => list.map((s) => ({ TimeStamp: legacyTime(s.createdAt) }));
const deletionMessage = (d: TaskDeletion) =>
  `Delete Task Success. License credit ${d.creditReturned ? 'given back' : 'kept (the server was migrated)'}; left in the cloud: ${d.leftInCloud.length ? d.leftInCloud.join(', ') : 'nothing'}.`;

export const taskRoutes: RestRoutes = {
  '/MgmtTask': {
    PrepareTaskWorkload: action({ code: 'int', input: prepareBody, run: (c, b) => c.services.tasks.prepare(toNewTask(b)), success: 'Success.', data: (t) => ({ ID: t.id, Repeated: [] }) }),
    UpdateTask: action({ code: 'int', input: updateBody, run: (c, b) => c.services.tasks.update(b.Id, toUpdate(b)), success: 'Success.', data: (t) => ({ ID: t.id, Repeated: [] }) }),
    DeleteTask: action({
      code: 'bool',
      input: taskId,
      run: async (c, b) => {
        const deleted = await c.services.tasks.remove(b.Id);
        return deleted.ok ? ok({ message: deletionMessage(deleted.value) }) : deleted;
      },
      success: '',
      message: (v) => v.message,
      data: () => null,
    }),
    ListTasks: action({
      code: 'int',
      input: z.object({ Name: str, SrcHost: str, PageLimit: int, PageNum: int }),
      run: (c, b) => c.services.tasks.list({ name: b.Name, srcHost: b.SrcHost }, b.PageNum ?? 1, b.PageLimit ?? 20),
      success: 'Get All Tasks Success.',
      data: listing,
    }),
    GetTaskDetail: action({ code: 'int', input: taskId, run: (c, b) => c.services.tasks.get(b.Id), success: 'Get Task Details Success.', data: detail }),
    CompleteTask: action({ code: 'bool', input: taskId, run: (c, b) => c.services.tasks.complete(b.Id), success: 'Complete Task Success.', data: () => null }),
    ContinueTask: action({ code: 'int', input: taskId, run: (c, b) => c.services.tasks.continueTask(b.Id), success: 'Continue Task Success.', data: () => null }),
    CheckTargetHostInfoExisting: action({
      code: 'int',
      input: z.object({ CloudId: text(64), TaskName: str, TargetServerName: str, CloudVolumeNames: z.array(z.string().max(255)).max(64).optional(), NetInterfaces: netInterfaces }),
      run: (c, b) =>
        c.services.tasks.checkTargetInfo({
          cloudId: b.CloudId,
          taskName: b.TaskName,
          targetServerName: b.TargetServerName,
          cloudVolumeNames: b.CloudVolumeNames ?? [],
          fixedIps: (b.NetInterfaces ?? []).flatMap((n) => (n.NetworkId ? [{ networkId: n.NetworkId, ips: (n.SubNets ?? []).flatMap((s) => (s.Ip ? [s.Ip] : [])) }] : [])),
        }),
      success: 'Success.',
      successCode: (v) => (v.taskNameExisted || v.serverNameExisted || v.volumeNameExisted.length || v.ipExisted.length ? 1 : 0),
      data: (v) => ({ TaskNameExisted: v.taskNameExisted, ServerNameExisted: v.serverNameExisted, VolumeNameExisted: v.volumeNameExisted, IpExisted: v.ipExisted.map((i) => ({ NetworkId: i.networkId, Ips: i.ips })) }),
    }),
    DisplayTaskHistory: action({ code: 'bool', input: taskId, run: (c, b) => c.services.tasks.history(b.Id), success: 'Success.', data: history }),
    ListSnapshots: action({ code: 'int', input: taskId, run: (c, b) => c.services.tasks.snapshots(b.Id), success: 'Get Task Snapshots Success.', data: snapshots }),
    CreateInstance: action({
      code: 'int',
      input: z.object({ Id: text(64), ...instanceFields }),
      run: (c, b) => c.services.tasks.createInstance(b.Id, instanceOf(b)),
      success: 'Success.',
      data: (t) => ({ ID: t.id, Repeated: [] }),
    }),
    GetInstance: action({ code: 'bool', input: taskId, run: (c, b) => c.services.tasks.instance(b.Id), success: 'Success.', data: (i) => ({ ID: i.id, Name: i.name }) }),
  },
};
