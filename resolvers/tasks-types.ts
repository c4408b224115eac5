import { DateTimeResolver } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { Task as TaskRow, TaskEvent as TaskEventRow, TaskSnapshot as TaskSnapshotRow, TaskVolume as TaskVolumeRow } from '../entities/index.js';
import type { ProgressView } from '../src/engine/progress.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import { Node, Payload } from './common.js';

/** `ActionState` by name; the legacy number is `actionState`. */
export enum TaskState {
  CREATED = 1000,
  COPYING = 1001,
  SNAPSHOTTED = 1002,
  ERROR = 1003,
  STOPPED = 1004,
  INSTANCE_AVAILABLE = 1005,
  CONVERTING = 1006,
  WAITING_FOR_INSTANCE = 1007,
  CREATING_INSTANCE = 1008,
  COMPLETED = 1009,
}
registerEnumType(TaskState, { name: 'TaskState', description: 'Where a task is in its flow (the legacy ActionState 1000–1009).' });

/** `LastSync` by name. */
export enum FinalSync {
  NONE = 0,
  REQUESTED = 1,
  RUNNING = 2,
}
registerEnumType(FinalSync, { name: 'FinalSync', description: 'The final sync after completeTask (the legacy LastSync 0–2).' });

@ObjectType({ description: 'One disk of the current copy, as the transport last measured it.' })
export class DiskProgress {
  @Field(() => String) disk!: string;
  @Field(() => Float) sizeBytes!: number;
  @Field(() => Float, { description: 'read and compared so far' }) scannedBytes!: number;
  @Field(() => Float, { description: 'sent over the network' }) wireBytes!: number;
  @Field(() => Float, { description: 'written to the cloud volume' }) writtenBytes!: number;
}

@ObjectType({ description: "Progress of a task's current copy." })
export class TaskProgress {
  @Field(() => ID) taskId!: string;
  @Field(() => Int, { description: '0–100 (the legacy ProgressPrecent)' }) percent!: number;
  @Field(() => Float, { description: 'bytes of the current copy' }) snapshotSize!: number;
  @Field(() => Float, { description: 'bytes done in the current copy' }) transferredSize!: number;
  @Field(() => Int, { nullable: true, description: 'seconds left, from the rate over the last two minutes' }) predictDoneSeconds?: number;
  @Field(() => [DiskProgress]) disks!: DiskProgress[];
  @Field(() => DateTimeResolver) at!: Date;
}

export const progressNode = (p: ProgressView): TaskProgress =>
  Object.assign(new TaskProgress(), { ...p, taskId: toGlobalId('Task', p.taskId), predictDoneSeconds: p.predictDoneSeconds ?? undefined, at: new Date(p.at) });

@ObjectType({ description: 'Throughput of the copies, in bytes per second; null until there is enough history.' })
export class TaskThroughput {
  @Field(() => Float, { nullable: true }) last2Minutes?: number;
  @Field(() => Float, { nullable: true }) last30Minutes?: number;
}

@ObjectType({ description: 'A disk of the task and the cloud volume it is copied into.' })
export class TaskVolume {
  @Field(() => String, { description: 'the source disk' }) volumeName!: string;
  @Field(() => Int) volumeSizeGb!: number;
  @Field(() => String, { nullable: true, description: 'the cloud volume type id' }) volumeType?: string;
  @Field(() => String, { nullable: true }) cloudVolumeName?: string;
  @Field(() => String, { nullable: true }) cloudVolumeId?: string;
  @Field(() => Boolean) boot!: boolean;
}

export const taskVolumeNode = (v: TaskVolumeRow): TaskVolume =>
  Object.assign(new TaskVolume(), { volumeName: v.volumeName, volumeSizeGb: v.volumeSizeGb, volumeType: v.volumeType ?? undefined, cloudVolumeName: v.cloudVolumeName ?? undefined, cloudVolumeId: v.cloudVolumeId ?? undefined, boot: v.boot });

@ObjectType({ description: "An entry of a task's log. `cursor` resumes a subscription right after it." })
export class TaskEvent {
  @Field(() => String) cursor!: string;
  @Field(() => ID) taskId!: string;
  @Field(() => Int, { description: 'numbers a task’s events 1, 2, 3… without gaps' }) seq!: number;
  @Field(() => String, { description: 'state.changed, cycle.started, cycle.finished, snapshot.created, snapshot.deleted, error, retry…' }) type!: string;
  @Field(() => String) message!: string;
  @Field(() => DateTimeResolver) at!: Date;
}

export const taskEventNode = (e: TaskEventRow): TaskEvent =>
  Object.assign(new TaskEvent(), { cursor: String(e.seq), taskId: toGlobalId('Task', e.task.id), seq: Number(e.seq), type: e.type, message: e.message, at: e.createdAt });

@ObjectType({ description: 'The cloud snapshots taken after one copy.' })
export class TaskSnapshot {
  @Field(() => Int, { description: 'the copy (SnapTimes) it closes' }) copy!: number;
  @Field(() => [String]) cloudSnapshotIds!: string[];
  @Field(() => DateTimeResolver) createdAt!: Date;
}

export const taskSnapshotNode = (s: TaskSnapshotRow): TaskSnapshot => Object.assign(new TaskSnapshot(), { copy: s.cycle, cloudSnapshotIds: Object.values(s.cloudSnapshotIds), createdAt: s.createdAt });

@ObjectType({ implements: Node, description: 'A migration task: copies of a source host into cloud volumes, then the migrated server.' })
export class Task extends Node {
  @Field(() => String, { description: 'The plain id, as REST shows it.' }) taskId!: string;
  @Field(() => String) name!: string;
  @Field(() => Int, { description: 'larger runs first' }) priority!: number;
  @Field(() => TaskState) state!: TaskState;
  @Field(() => Int, { description: 'the legacy ActionState' }) actionState!: number;
  @Field(() => FinalSync) finalSync!: FinalSync;
  @Field(() => Int, { description: 'copies run so far; 1 while the first full copy runs' }) snapTimes!: number;
  @Field(() => String) status!: string;
  @Field(() => DateTimeResolver) startTime!: Date;
  @Field(() => Int) intervalMinutes!: number;
  @Field(() => Int) maxSnapsNum!: number;
  @Field(() => Boolean) isCompressed!: boolean;
  @Field(() => Int, { description: 'MB/s, 0 for no limit' }) qosLimit!: number;
  @Field(() => String, { nullable: true }) flavorId?: string;
  @Field(() => Int, { nullable: true }) cpu?: number;
  @Field(() => Int, { nullable: true, description: 'GB' }) memory?: number;
  @Field(() => String, { nullable: true }) networkId?: string;
  @Field(() => String, { nullable: true }) subnetId?: string;
  @Field(() => String, { nullable: true }) securityGroupId?: string;
  @Field(() => String, { nullable: true }) targetServerName?: string;
  @Field(() => String, { nullable: true, description: 'the migrated server, once created' }) targetServerId?: string;
  @Field(() => TaskProgress) progress!: TaskProgress;
  @Field(() => DateTimeResolver) createdAt!: Date;
  @Field(() => DateTimeResolver) updatedAt!: Date;
  /** for relations and throughput; not fields */
  row!: TaskRow;
}

const opt = <T>(v: T | null | undefined): T | undefined => v ?? undefined;

export const taskNode = (t: TaskRow): Task =>
  Object.assign(new Task(), {
    id: toGlobalId('Task', t.id),
    taskId: t.id,
    name: t.name,
    priority: t.priority,
    state: t.actionState as number as TaskState,
    actionState: t.actionState,
    finalSync: t.lastSync as number as FinalSync,
    snapTimes: t.snapTimes,
    status: t.status,
    startTime: t.startTime,
    intervalMinutes: t.intervalMinutes,
    maxSnapsNum: t.maxSnapsNum,
    isCompressed: t.isCompressed,
    qosLimit: t.qosLimit,
    flavorId: opt(t.flavorId),
    cpu: opt(t.cpu),
    memory: opt(t.memory),
    networkId: opt(t.networkId),
    subnetId: opt(t.subnetId),
    securityGroupId: opt(t.securityGroupId),
    targetServerName: opt(t.targetServerName),
    targetServerId: opt(t.targetServerId),
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    row: t,
  });

@InputType({ description: 'A disk to migrate; its cloud volume is at least as large as the disk.' })
export class TaskVolumeInput {
  @Field(() => String, { description: 'the source disk, e.g. /dev/vda' }) volumeName!: string;
  @Field(() => String, { nullable: true, description: 'a volume type of the cloud, by id or name' }) volumeType?: string;
  @Field(() => Int, { nullable: true, description: 'GB; the disk’s size when absent' }) volumeSizeGb?: number;
  @Field(() => String, { nullable: true }) cloudVolumeName?: string;
  @Field(() => Boolean, { nullable: true }) preAlloc?: boolean;
}

@InputType({ description: 'The migrated server; flavor or CPU and memory, network, subnet, security group.' })
export class TaskInstanceInput {
  @Field(() => String, { nullable: true }) flavorId?: string;
  @Field(() => Int, { nullable: true }) cpu?: number;
  @Field(() => Int, { nullable: true }) sockets?: number;
  @Field(() => Int, { nullable: true, description: 'GB' }) memory?: number;
  @Field(() => String, { nullable: true }) networkId?: string;
  @Field(() => String, { nullable: true }) subnetId?: string;
  @Field(() => String, { nullable: true }) securityGroupId?: string;
  @Field(() => String, { nullable: true }) targetServerName?: string;
}

@InputType()
export class TaskPrepareInput extends TaskInstanceInput {
  @Field(() => String) name!: string;
  @Field(() => Int, { nullable: true }) priority?: number;
  @Field(() => ID, { description: 'a SourceHost (agent host) or a VirtualMachine of a vSphere platform' }) sourceHostId!: string;
  @Field(() => ID) cloudId!: string;
  @Field(() => ID) targetTransportId!: string;
  @Field(() => ID, { nullable: true }) srcTransportId?: string;
  @Field(() => Int) intervalMinutes!: number;
  @Field(() => Int) maxSnapsNum!: number;
  @Field(() => DateTimeResolver, { description: 'the first copy starts then (at once when past)' }) startTime!: Date;
  @Field(() => Boolean, { nullable: true }) isCompressed?: boolean;
  @Field(() => Int, { nullable: true }) qosLimit?: number;
  @Field(() => [TaskVolumeInput], { nullable: true, description: 'every disk of the host when absent' }) volumes?: TaskVolumeInput[];
}

@InputType({ description: 'What to change; absent fields keep their value.' })
export class TaskUpdateInput extends TaskInstanceInput {
  @Field(() => ID) taskId!: string;
  @Field(() => String, { nullable: true }) name?: string;
  @Field(() => Int, { nullable: true }) priority?: number;
  @Field(() => Int, { nullable: true }) intervalMinutes?: number;
  @Field(() => Int, { nullable: true }) maxSnapsNum?: number;
  @Field(() => DateTimeResolver, { nullable: true }) startTime?: Date;
}

@InputType()
export class TaskIdInput {
  @Field(() => ID) taskId!: string;
}

@InputType()
export class TaskCreateInstanceInput extends TaskInstanceInput {
  @Field(() => ID) taskId!: string;
}

@ObjectType()
export class TaskPayload extends Payload {
  @Field(() => Task, { nullable: true }) task?: Task;
  @Field(() => [String], { description: 'names already taken in the cloud (with a CONFLICT on targetServerName or volumes)' }) repeated: string[] = [];
}

@ObjectType()
export class TaskDeletePayload extends Payload {
  @Field(() => ID, { nullable: true }) deletedTaskId?: string;
  @Field(() => Boolean, { nullable: true, description: 'the license credit was given back (no migrated server exists)' }) creditReturned?: boolean;
  @Field(() => [String], { description: 'what the task made that stays in the cloud' }) leftInCloud: string[] = [];
}
