import { GraphQLError } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Task as TaskRow } from '../entities/index.js';
import { progressView } from '../src/engine/progress.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { fromGlobalId } from '../src/graphql/global-id.js';
import type { Result } from '../src/services/errors.js';
import type { InstanceSpec } from '../src/services/tasks/task-input.js';
import { Cloud, cloudNode } from './clouds-types.js';
import { payload, toUserError } from './common.js';
import { Connection, ConnectionArgs, pageRequest, toConnection } from './connection.js';
import { SourceHost, sourceHostNode } from './hosts-types.js';
import {
  Task, TaskCreateInstanceInput, TaskDeletePayload, TaskEvent, taskEventNode, TaskIdInput, TaskInstanceInput, taskNode, TaskPayload, TaskPrepareInput, TaskProgress,
  progressNode, TaskSnapshot, taskSnapshotNode, TaskThroughput, TaskUpdateInput, TaskVolume, taskVolumeNode,
} from './tasks-types.js';
import { TransportServer, transportNode } from './transports-types.js';

const TaskConnection = Connection('Task', Task);
type TaskConnection = InstanceType<typeof TaskConnection>;

/** The service names fields as the legacy API does; GraphQL inputs as below. */
const FIELD_NAMES = {
  Id: 'taskId', Name: 'name', Priority: 'priority', HostId: 'sourceHostId', CloudId: 'cloudId', TargetTransId: 'targetTransportId', SrcTransId: 'srcTransportId',
  IntervalMinutes: 'intervalMinutes', MaxSnapsNum: 'maxSnapsNum', MaxSnapNum: 'maxSnapsNum', StartTime: 'startTime', QosLimit: 'qosLimit',
  VolumeInfos: 'volumes', VolumeName: 'volumes', VolumeSize: 'volumes', VolumeType: 'volumes', CloudVolumeName: 'volumes',
  FlavorId: 'flavorId', CPU: 'cpu', Memory: 'memory', Sockets: 'sockets', NetworkId: 'networkId', SubnetId: 'subnetId', SecurityGroupId: 'securityGroupId',
  TargetServerName: 'targetServerName', ActionState: 'taskId',
};

/** A global id of `type`, or the plain id REST uses. */
/** The row id inside a global id of one of `types` (anything else is passed on as is, for the service to refuse). */
export const plainId = (types: string | string[], id: string): string => {
  const parsed = fromGlobalId(id);
  return parsed && [types].flat().includes(parsed.type) ? parsed.id : id;
};

const instanceOf = (i: TaskInstanceInput): InstanceSpec => ({
  flavorId: i.flavorId ?? undefined, cpu: i.cpu ?? undefined, sockets: i.sockets ?? undefined, memory: i.memory ?? undefined, networkId: i.networkId ?? undefined,
  subnetId: i.subnetId ?? undefined, securityGroupId: i.securityGroupId ?? undefined, targetServerName: i.targetServerName ?? undefined,
});

/** A task mutation's payload; a name taken in the cloud also lists the names. */
function taskPayload(result: Result<TaskRow>): TaskPayload {
  const p = payload<TaskRow, TaskPayload>(result, (t) => ({ task: taskNode(t), repeated: [] }), FIELD_NAMES);
  return Object.assign(new TaskPayload(), p, { repeated: result.ok ? [] : (result.error.repeated ?? []) });
}

@Resolver(() => Task)
export class TaskResolver {
  @Query(() => TaskConnection, { description: 'Migration tasks, oldest first; `name` and `sourceHostName` keep those whose name contains it.' })
  async tasks(
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('name', () => String, { nullable: true }) name: string | undefined,
    @Arg('sourceHostName', () => String, { nullable: true }) srcHost: string | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<TaskConnection> {
    return toConnection(await ctx.services.tasks.page({ name: name ?? undefined, srcHost: srcHost ?? undefined }, pageRequest(args)), taskNode);
  }

  @FieldResolver(() => SourceHost, { nullable: true })
  async sourceHost(@Root() task: Task, @Ctx() ctx: GraphQLContext): Promise<SourceHost | null> {
    const host = await ctx.loaders.sourceHost.load(task.row.sourceHost.id);
    return host ? sourceHostNode(host) : null;
  }

  @FieldResolver(() => Cloud, { nullable: true })
  async cloud(@Root() task: Task, @Ctx() ctx: GraphQLContext): Promise<Cloud | null> {
    const cloud = await ctx.loaders.cloud.load(task.row.cloud.id);
    return cloud ? cloudNode(cloud) : null;
  }

  @FieldResolver(() => TransportServer, { nullable: true, description: 'The transport that copies into the cloud volumes.' })
  async targetTransport(@Root() task: Task, @Ctx() ctx: GraphQLContext): Promise<TransportServer | null> {
    const transport = await ctx.loaders.transport.load(task.row.targetTransport.id);
    return transport ? transportNode(transport) : null;
  }

  @FieldResolver(() => [TaskVolume])
  async volumes(@Root() task: Task, @Ctx() ctx: GraphQLContext): Promise<TaskVolume[]> {
    return (await ctx.loaders.taskVolumes.load(task.taskId)).map(taskVolumeNode);
  }

  @FieldResolver(() => TaskProgress)
  progress(@Root() task: Task): TaskProgress {
    return progressNode(progressView(task.row));
  }

  @FieldResolver(() => TaskThroughput)
  async throughput(@Root() task: Task, @Ctx() ctx: GraphQLContext): Promise<TaskThroughput> {
    const t = await ctx.services.tasks.throughput(task.row);
    return { last2Minutes: t.last2m ?? undefined, last30Minutes: t.last30m ?? undefined };
  }

  @FieldResolver(() => [TaskSnapshot], { description: 'The snapshots kept in the cloud, oldest first.' })
  async snapshots(@Root() task: Task, @Ctx() ctx: GraphQLContext): Promise<TaskSnapshot[]> {
    const list = await ctx.services.tasks.snapshots(task.taskId);
    return list.ok ? list.value.map(taskSnapshotNode) : [];
  }

  @FieldResolver(() => [TaskEvent], { description: 'The task’s log after `after` (a cursor), oldest first.' })
  async events(
    @Root() task: Task,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
    @Arg('first', () => Int, { defaultValue: 100 }) first: number,
    @Ctx() ctx: GraphQLContext,
  ): Promise<TaskEvent[]> {
    const cursor = after ?? '0';
    if (!/^\d{1,18}$/.test(cursor)) throw new GraphQLError('after must be a cursor of this task’s events.', { extensions: { code: 'BAD_USER_INPUT', argument: 'after' } });
    if (!Number.isInteger(first) || first < 1 || first > 500) throw new GraphQLError('first must be between 1 and 500.', { extensions: { code: 'BAD_USER_INPUT', argument: 'first' } });
    return (await ctx.services.tasks.eventsAfter(task.taskId, cursor, first)).map(taskEventNode);
  }

  @Mutation(() => TaskPayload, { description: 'Creates a task (PrepareTaskWorkload): takes a license credit; the first copy starts at startTime.' })
  async taskPrepare(@Arg('input', () => TaskPrepareInput) input: TaskPrepareInput, @Ctx() ctx: GraphQLContext): Promise<TaskPayload> {
    const result = await ctx.services.tasks.prepare({
      ...instanceOf(input),
      name: input.name,
      priority: input.priority ?? undefined,
      // a vSphere VM is a source host without an agent
      hostId: plainId(['SourceHost', 'VirtualMachine'], input.sourceHostId),
      cloudId: plainId('Cloud', input.cloudId),
      targetTransId: plainId('TransportServer', input.targetTransportId),
      srcTransId: input.srcTransportId ? plainId('TransportServer', input.srcTransportId) : undefined,
      intervalMinutes: input.intervalMinutes,
      maxSnapsNum: input.maxSnapsNum,
      startTime: input.startTime,
      isCompressed: input.isCompressed ?? undefined,
      qosLimit: input.qosLimit ?? undefined,
      volumes: (input.volumes ?? []).map((v) => ({ volumeName: v.volumeName, volumeType: v.volumeType ?? undefined, volumeSize: v.volumeSizeGb ?? undefined, cloudVolumeName: v.cloudVolumeName ?? undefined, preAlloc: v.preAlloc ?? undefined })),
    });
    return taskPayload(result);
  }

  @Mutation(() => TaskPayload, { description: 'Changes a task: its schedule until a minute before startTime, its server until recovery begins, name and priority any time.' })
  async taskUpdate(@Arg('input', () => TaskUpdateInput) input: TaskUpdateInput, @Ctx() ctx: GraphQLContext): Promise<TaskPayload> {
    const instance = Object.fromEntries(Object.entries(instanceOf(input)).filter(([, v]) => v !== undefined));
    const result = await ctx.services.tasks.update(plainId('Task', input.taskId), {
      ...instance,
      name: input.name ?? undefined,
      priority: input.priority ?? undefined,
      intervalMinutes: input.intervalMinutes ?? undefined,
      maxSnapsNum: input.maxSnapsNum ?? undefined,
      startTime: input.startTime ?? undefined,
    });
    return taskPayload(result);
  }

  @Mutation(() => TaskPayload, { description: 'Starts the final sync (after the first full copy); then the boot disk is converted.' })
  async taskComplete(@Arg('input', () => TaskIdInput) input: TaskIdInput, @Ctx() ctx: GraphQLContext): Promise<TaskPayload> {
    return taskPayload(await ctx.services.tasks.complete(plainId('Task', input.taskId)));
  }

  @Mutation(() => TaskPayload, { description: 'Resumes a task in error from the step that failed.' })
  async taskContinue(@Arg('input', () => TaskIdInput) input: TaskIdInput, @Ctx() ctx: GraphQLContext): Promise<TaskPayload> {
    return taskPayload(await ctx.services.tasks.continueTask(plainId('Task', input.taskId)));
  }

  @Mutation(() => TaskPayload, { description: 'Boots the migrated server from the cloud volumes (once the task waits for it).' })
  async taskCreateInstance(@Arg('input', () => TaskCreateInstanceInput) input: TaskCreateInstanceInput, @Ctx() ctx: GraphQLContext): Promise<TaskPayload> {
    return taskPayload(await ctx.services.tasks.createInstance(plainId('Task', input.taskId), instanceOf(input)));
  }

  @Mutation(() => TaskDeletePayload, { description: 'Cancels and removes a task; nothing is deleted in the cloud (leftInCloud lists it).' })
  async taskDelete(@Arg('input', () => TaskIdInput) input: TaskIdInput, @Ctx() ctx: GraphQLContext): Promise<TaskDeletePayload> {
    const result = await ctx.services.tasks.remove(plainId('Task', input.taskId));
    if (!result.ok) return Object.assign(new TaskDeletePayload(), { userErrors: [toUserError(result.error, FIELD_NAMES)] });
    return Object.assign(new TaskDeletePayload(), { deletedTaskId: input.taskId, creditReturned: result.value.creditReturned, leftInCloud: result.value.leftInCloud, userErrors: [] });
  }
}

/** The tasks of a source host, on `SourceHost`. */
@Resolver(() => SourceHost)
export class SourceHostTasksResolver {
  @FieldResolver(() => [Task], { description: 'Its migration tasks, oldest first.' })
  async tasks(@Root() host: SourceHost, @Ctx() ctx: GraphQLContext): Promise<Task[]> {
    return (await ctx.loaders.hostTasks.load(host.sourceHostId)).map(taskNode);
  }
}
