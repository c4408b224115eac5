import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ActionState, LastSync, Task, TaskEvent, TaskSnapshot, TaskVolume, VspherePlatform } from '../../../entities/index.js';
import { appendEvent } from '../../engine/event-log.js';
import { serverName, vmSnapshotPrefix } from '../../engine/names.js';
import { rateOver, WINDOWS_MS } from '../../engine/progress.js';
import { groupBy } from '../../util/group-by.js';
import { keysetPage, type Page, type PageRequest } from '../paging.js';
import { lockTask, TASK_POPULATE, wakeEngines } from '../../engine/scheduling.js';
import { changeState, StateRefused } from '../../engine/task-changes.js';
import { describeState } from '../../engine/task-states.js';
import { fromCloud } from '../clouds/cloud-errors.js';
import type { CloudService } from '../clouds/cloud-service.js';
import type { ServiceDeps } from '../context.js';
import { fail, ok, type Result } from '../errors.js';
import { settleCredit, takeCredit } from '../license/ledger.js';
import type { TransportService } from '../transports/transport-service.js';
import { transportReaches } from '../vsphere/transport-reach.js';
import type { VmDiskSources } from '../vsphere/vm-disk-sources.js';
import { checkNamesFree, resolveCloudRefs } from './task-cloud-checks.js';
import { checkInstanceSpec, checkInterval, checkMaxSnaps, checkPriority, checkStartTime, checkTaskName, type InstanceSpec, type NewTaskInput, type TaskUpdateInput } from './task-input.js';
import { prepareTask } from './task-prepare.js';
import { UUID } from '../../util/uuid.js';

/** IntervalMinutes, StartTime, MaxSnapsNum and volume types may change until this long before StartTime. */
export const SCHEDULE_FREEZE_MS = 60_000;
/** from these states on, the instance fields are fixed (recovery has begun) */
const RECOVERY_STATES = [ActionState.Success, ActionState.ExecuteV2V, ActionState.WaitRecovery, ActionState.InRecovery, ActionState.Completed];

/** What DeleteTask did and what it leaves in the cloud. */
export interface TaskDeletion {
  id: string;
  name: string;
  creditReturned: boolean;
  /** cloud resources the task made that stay: volumes, snapshots, the migrated server */
  leftInCloud: string[];
}

/** Migration tasks: their rules; the engine (src/engine) runs their steps. */
export class TaskService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly clouds: CloudService,
    private readonly transports: TransportService,
    private readonly vmDisks: VmDiskSources,
  ) {}

  /** PrepareTaskWorkload: checks everything, takes a license credit, and schedules the task at StartTime. */
  async prepare(input: NewTaskInput): Promise<Result<Task>> {
    const em = this.deps.orm.em.fork();
    const prepared = await prepareTask(em, input);
    if (!prepared.ok) return prepared;
    const { columns, volumes, host, target } = prepared.value;
    if (!host.agent) {
      // the target transport downloads the VM's disks from the platform itself
      const platform = await em.findOneOrFail(VspherePlatform, { id: host.platform!.id });
      const reached = await transportReaches(this.transports, target, platform.ip, platform.certThumbprint ?? undefined);
      if (!reached.ok) return { ok: false, error: { ...reached.error, field: 'TargetTransId' } };
    }
    const driver = await this.clouds.driverOf(columns.cloud.id);
    if (!driver.ok) return driver;
    const refs = await resolveCloudRefs(driver.value, columns, volumes.map((v) => v.volumeType));
    if (!refs.ok) return refs;
    const free = await checkNamesFree(em, driver.value, columns.cloud.id, { serverName: columns.targetServerName ?? prepared.value.host.name, volumeNames: volumes.flatMap((v) => (v.cloudVolumeName ? [v.cloudVolumeName] : [])) });
    if (!free.ok) return free;
    const created = await this.inTransaction(async (tx) => {
      const task = tx.create(Task, { ...columns, securityGroupId: refs.value.securityGroupId, step: 'provision', dueAt: columns.startTime });
      volumes.forEach((v, i) => tx.create(TaskVolume, { ...v, volumeType: refs.value.volumeTypeIds[i], task }));
      const credit = await takeCredit(tx, task.id);
      if (!credit.ok) return credit;
      await appendEvent(tx, task, 'task.created', `task created: ${volumes.length} disk${volumes.length === 1 ? '' : 's'} of "${prepared.value.host.name}", first copy at ${columns.startTime.toISOString()}`);
      await wakeEngines(tx, task);
      return ok(task);
    });
    if (created.ok) this.deps.log.info({ task: created.value.id, name: created.value.name }, 'task created');
    return created;
  }

  /** UpdateTask: the schedule until a minute before StartTime, the instance until recovery begins; name and priority any time. */
  async update(id: string, input: TaskUpdateInput): Promise<Result<Task>> {
    return this.locked(id, async (em, task) => {
      const now = Date.now();
      const schedule = input.intervalMinutes !== undefined || input.maxSnapsNum !== undefined || input.startTime !== undefined || (input.volumeTypes?.length ?? 0) > 0;
      if (schedule && now > task.startTime.getTime() - SCHEDULE_FREEZE_MS) {
        const field = input.startTime !== undefined ? 'StartTime' : input.intervalMinutes !== undefined ? 'IntervalMinutes' : input.maxSnapsNum !== undefined ? 'MaxSnapNum' : 'VolumeType';
        return fail('CONFLICT', `${field} may change only until one minute before StartTime (${task.startTime.toISOString()}); the task has started or is about to.`, field);
      }
      const instance: (keyof InstanceSpec)[] = ['flavorId', 'cpu', 'sockets', 'memory', 'networkId', 'subnetId', 'routeId', 'securityGroupId', 'aggregateId', 'bandwidth', 'targetServerName'];
      const changesInstance = instance.some((k) => input[k] !== undefined);
      const state = task.actionState === ActionState.Error ? task.failedState ?? task.actionState : task.actionState;
      if (changesInstance && RECOVERY_STATES.includes(state)) return fail('CONFLICT', `The target server's settings are fixed once recovery has begun; the task is ${describeState(task)}.`, 'FlavorId');
      if (input.name !== undefined) {
        const name = checkTaskName(input.name);
        if (!name.ok) return name;
        if (name.value !== task.name && (await em.count(Task, { name: name.value }))) return fail('CONFLICT', `A task named "${name.value}" already exists.`, 'Name');
        task.name = name.value;
      }
      if (input.priority !== undefined) {
        const p = checkPriority(input.priority);
        if (!p.ok) return p;
        task.priority = p.value;
      }
      if (input.intervalMinutes !== undefined) {
        const v = checkInterval(input.intervalMinutes);
        if (!v.ok) return v;
        task.intervalMinutes = v.value;
      }
      if (input.maxSnapsNum !== undefined) {
        const v = checkMaxSnaps(input.maxSnapsNum, 'MaxSnapNum');
        if (!v.ok) return v;
        task.maxSnapsNum = v.value;
      }
      if (input.startTime !== undefined) {
        const v = checkStartTime(input.startTime);
        if (!v.ok) return v;
        task.startTime = v.value;
        if (task.step === 'provision') task.dueAt = v.value;
      }
      if (changesInstance || input.volumeTypes?.length) {
        const merged: InstanceSpec = { ...this.instanceOf(task), ...Object.fromEntries(instance.filter((k) => input[k] !== undefined).map((k) => [k, input[k]])) };
        const spec = checkInstanceSpec(merged);
        if (!spec.ok) return spec;
        const driver = await this.clouds.driverOf(task.cloud.id);
        if (!driver.ok) return driver;
        const volumes = task.volumes.getItems();
        const wantedTypes = volumes.map((v) => input.volumeTypes?.find((t) => t.volumeName === v.volumeName)?.volumeType);
        for (const t of input.volumeTypes ?? []) if (!volumes.some((v) => v.volumeName === t.volumeName)) return fail('INVALID_INPUT', `VolumeName "${t.volumeName}" is not a disk of this task.`, 'VolumeName');
        const refs = await resolveCloudRefs(driver.value, spec.value, wantedTypes);
        if (!refs.ok) return refs;
        if (input.targetServerName !== undefined && spec.value.targetServerName !== task.targetServerName) {
          const free = await checkNamesFree(em, driver.value, task.cloud.id, { serverName: spec.value.targetServerName, volumeNames: [] }, task.id);
          if (!free.ok) return free;
        }
        Object.assign(task, this.columnsOf(spec.value), { securityGroupId: refs.value.securityGroupId ?? spec.value.securityGroupId });
        volumes.forEach((v, i) => refs.value.volumeTypeIds[i] && (v.volumeType = refs.value.volumeTypeIds[i]));
      }
      await appendEvent(em, task, 'task.updated', `task updated: ${Object.keys(input).filter((k) => input[k as keyof TaskUpdateInput] !== undefined).join(', ') || 'nothing'}`);
      return ok(task);
    });
  }

  /**
   * DeleteTask: cancels what runs on the transport, detaches the volumes from it, and removes the
   * task; the credit is given back unless the migrated server exists. Nothing is deleted in the
   * cloud: the answer lists what stays there.
   */
  async remove(id: string): Promise<Result<TaskDeletion>> {
    const result = await this.locked(id, async (em, task) => {
      const transport = await this.transports.clientOf(task.targetTransport.id);
      if (transport.ok && task.step === 'await-cycle' && task.cycleId) await transport.value.cancelCycle(task.cycleId).catch(() => undefined);
      const left: string[] = [];
      const host = task.sourceHost.getEntity();
      if (!host.agent) {
        // a copy that failed or was cut short may have left the VM snapshot Ferry took
        const released = await this.vmDisks.release(host, vmSnapshotPrefix(task)).then(
          () => true,
          (err: Error) => (this.deps.log.warn({ task: id, err: err.message }, 'VM snapshot not removed'), false),
        );
        if (!released) left.push(`VM snapshots named ${vmSnapshotPrefix(task)}… of "${host.name}" (vSphere did not answer)`);
      }
      const driver = await this.clouds.driverOf(task.cloud.id);
      const serverId = task.targetTransport.getEntity().cloudServerId;
      for (const v of task.volumes.getItems()) {
        if (!v.cloudVolumeId) continue;
        if (v.device && serverId && driver.ok) await fromCloud(() => driver.value.detachVolume(serverId, v.cloudVolumeId!));
        left.push(`volume ${v.cloudVolumeName} (${v.cloudVolumeId})`);
      }
      const snapshots = await em.find(TaskSnapshot, { task, deletedAt: null }, { orderBy: { cycle: 'asc' } });
      for (const s of snapshots) for (const sid of Object.values(s.cloudSnapshotIds)) left.push(`snapshot ${sid} (copy ${s.cycle})`);
      if (task.targetServerId) left.push(`server ${serverName(task)} (${task.targetServerId})`);
      const migrated = Boolean(task.targetServerId) && [ActionState.Success, ActionState.Completed].includes(task.actionState);
      const kind = await settleCredit(em, task.id, migrated);
      await changeState(em, task, 'deleted');
      await em.flush();
      await em.nativeDelete(Task, { id: task.id });
      return ok({ id: task.id, name: task.name, creditReturned: kind === 'returned', leftInCloud: left });
    });
    if (result.ok) this.deps.log.info({ task: id, creditReturned: result.value.creditReturned }, 'task deleted');
    return result;
  }

  /** CompleteTask: the final sync, once the first full copy is done. */
  async complete(id: string): Promise<Result<Task>> {
    return this.locked(id, async (em, task) => {
      const firstCopyDone = task.snapTimes >= 2 || task.actionState === ActionState.Snapshotted;
      if ([ActionState.WaitSnapshot, ActionState.Snapshotted].includes(task.actionState) && task.lastSync === LastSync.Normal && !firstCopyDone) {
        return fail('CONFLICT', 'The first full copy has not finished yet; complete the task after it.', 'Id');
      }
      await changeState(em, task, 'complete-requested', 'final sync requested');
      // idle between copies: the final sync starts now rather than at the next interval
      if (task.step === 'cycle') {
        task.dueAt = new Date();
        await wakeEngines(em, task);
      }
      return ok(task);
    });
  }

  /** ContinueTask: resumes a task in error from the step that failed, without redoing finished ones. */
  async continueTask(id: string): Promise<Result<Task>> {
    return this.locked(id, async (em, task) => {
      const step = task.failedStep;
      await changeState(em, task, 'continued', step ? `continued from ${step}` : undefined);
      // a server that went to ERROR is deleted by the boot step, which then boots a new one
      task.step = step === 'await-server' ? 'boot' : step;
      task.dueAt = new Date();
      task.failedStep = undefined;
      task.failedState = undefined;
      task.attempts = 0;
      await wakeEngines(em, task);
      return ok(task);
    });
  }

  /** CreateInstance: fixes the server's settings (checked in the cloud) and boots it from the volumes. */
  async createInstance(id: string, spec: InstanceSpec): Promise<Result<Task>> {
    return this.locked(id, async (em, task) => {
      if (task.actionState !== ActionState.WaitRecovery) return fail('CONFLICT', `The task is ${describeState(task)}: an instance can be created only once the final sync and the conversion are done (1007).`, 'Id');
      const merged = checkInstanceSpec({ ...this.instanceOf(task), ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined && v !== '')) });
      if (!merged.ok) return merged;
      if (!merged.value.networkId) return fail('INVALID_INPUT', 'NetworkId is required to create the instance.', 'NetworkId');
      if (!merged.value.flavorId && merged.value.cpu === undefined) return fail('INVALID_INPUT', 'FlavorId, or CPU and Memory, is required to create the instance.', 'FlavorId');
      const driver = await this.clouds.driverOf(task.cloud.id);
      if (!driver.ok) return driver;
      const refs = await resolveCloudRefs(driver.value, merged.value, []);
      if (!refs.ok) return refs;
      const name = merged.value.targetServerName || task.sourceHost.getEntity().name;
      const free = await checkNamesFree(em, driver.value, task.cloud.id, { serverName: name, volumeNames: [] }, task.id);
      if (!free.ok) return free;
      Object.assign(task, this.columnsOf(merged.value), { securityGroupId: refs.value.securityGroupId });
      await changeState(em, task, 'create-instance', `server ${name} requested`);
      task.step = 'boot';
      task.dueAt = new Date();
      await wakeEngines(em, task);
      return ok(task);
    });
  }

  // -- reading

  async get(id: string): Promise<Result<Task>> {
    const task = UUID.test(id) ? await this.deps.orm.em.fork().findOne(Task, { id }, { populate: [...TASK_POPULATE] }) : null;
    return task ? ok(task) : this.notFound(id);
  }

  /** ListTasks: tasks (of agent hosts and of vSphere VMs) by name/source host filters, highest priority then newest first, with counts over the filter. */
  async list(filter: { name?: string; srcHost?: string }, pageNum: number, pageLimit: number): Promise<Result<{ tasks: Task[]; total: number; inProcess: number; done: number }>> {
    if (!Number.isInteger(pageNum) || pageNum < 1) return fail('INVALID_INPUT', `PageNum must be a whole number from 1 (got ${pageNum}).`, 'PageNum');
    if (!Number.isInteger(pageLimit) || pageLimit < 1 || pageLimit > 1000) return fail('INVALID_INPUT', `PageLimit must be a whole number from 1 to 1000 (got ${pageLimit}).`, 'PageLimit');
    const em = this.deps.orm.em.fork();
    const where = this.where(filter);
    const [tasks, total, done, inProcess] = await Promise.all([
      em.find(Task, where, { populate: [...TASK_POPULATE], orderBy: { priority: 'desc', createdAt: 'desc', id: 'asc' }, limit: pageLimit, offset: (pageNum - 1) * pageLimit }),
      em.count(Task, where),
      em.count(Task, { $and: [where, { actionState: ActionState.Completed }] }),
      em.count(Task, { $and: [where, { actionState: { $nin: [ActionState.Created, ActionState.Completed, ActionState.Stopped] } }] }),
    ]);
    return ok({ tasks, total, inProcess, done });
  }

  /** A page of tasks, oldest first, by name and source host name filters (GraphQL). */
  async page(filter: { name?: string; srcHost?: string }, request: PageRequest): Promise<Result<Page<Task>>> {
    return keysetPage(this.deps.orm.em.fork(), Task, this.where(filter), request);
  }

  /** Tasks by id, for batch loading. */
  async byIds(ids: readonly string[]): Promise<Map<string, Task>> {
    const wanted = ids.filter((id) => UUID.test(id));
    const rows = wanted.length ? await this.deps.orm.em.fork().find(Task, { id: { $in: wanted } }) : [];
    return new Map(rows.map((t) => [t.id, t]));
  }

  /** The volumes of each task, in source order (for batch loaders). */
  async volumesOfTasks(taskIds: readonly string[]): Promise<Map<string, TaskVolume[]>> {
    const rows = taskIds.length ? await this.deps.orm.em.fork().find(TaskVolume, { task: { $in: [...taskIds] } }, { orderBy: { position: 'asc' } }) : [];
    return groupBy(taskIds, rows, (v) => v.task.id);
  }

  /** The tasks of each source host, oldest first (for batch loaders). */
  async tasksOfHosts(hostIds: readonly string[]): Promise<Map<string, Task[]>> {
    const rows = hostIds.length ? await this.deps.orm.em.fork().find(Task, { sourceHost: { $in: [...hostIds] } }, { orderBy: { createdAt: 'asc', id: 'asc' } }) : [];
    return groupBy(hostIds, rows, (t) => t.sourceHost.id);
  }

  /** Bytes per second the task's copies processed over the last 2 and 30 minutes; null without enough history. */
  async throughput(task: Task): Promise<{ last2m: number | null; last30m: number | null }> {
    const em = this.deps.orm.em.fork();
    const moved = Number(task.movedBytes);
    const [last2m, last30m] = await Promise.all([rateOver(em, task.id, WINDOWS_MS.short, moved), rateOver(em, task.id, WINDOWS_MS.long, moved)]);
    return { last2m, last30m };
  }

  /** DisplayTaskHistory: the task's log, oldest first. */
  async history(id: string): Promise<Result<TaskEvent[]>> {
    const task = await this.get(id);
    if (!task.ok) return task;
    return ok(await this.deps.orm.em.fork().find(TaskEvent, { task: id }, { orderBy: { seq: 'asc' } }));
  }

  /** Events after `afterSeq`, in order (subscriptions read the log through this). */
  async eventsAfter(id: string, afterSeq: string, limit = 500): Promise<TaskEvent[]> {
    return this.deps.orm.em.fork().find(TaskEvent, { task: id, seq: { $gt: afterSeq } }, { orderBy: { seq: 'asc' }, limit });
  }

  /** ListSnapshots: the snapshots kept in the cloud, oldest first. */
  async snapshots(id: string): Promise<Result<TaskSnapshot[]>> {
    const task = await this.get(id);
    if (!task.ok) return task;
    return ok(await this.deps.orm.em.fork().find(TaskSnapshot, { task: id, deletedAt: null }, { orderBy: { cycle: 'asc' } }));
  }

  /** GetInstance: the migrated server, once created. */
  async instance(id: string): Promise<Result<{ id: string; name: string }>> {
    const task = await this.get(id);
    if (!task.ok) return task;
    if (!task.value.targetServerId) return fail('NOT_FOUND', `Task "${task.value.name}" has not created its instance yet (it is ${describeState(task.value)}).`, 'Id');
    return ok({ id: task.value.targetServerId, name: serverName(task.value) });
  }

  /** CheckTargetHostInfoExisting: which of these names and addresses are taken. */
  async checkTargetInfo(input: { cloudId: string; taskName?: string; targetServerName?: string; cloudVolumeNames: string[]; fixedIps: { networkId: string; ips: string[] }[] }) {
    const em = this.deps.orm.em.fork();
    const driver = await this.clouds.driverOf(input.cloudId);
    if (!driver.ok) return { ...driver, error: { ...driver.error, field: 'CloudId' } };
    return fromCloud(async () => {
      const d = driver.value;
      const taskNameExisted = input.taskName && (await em.count(Task, { name: input.taskName })) ? input.taskName : '';
      const serverNameExisted = input.targetServerName && ((await em.count(Task, { cloud: input.cloudId, targetServerName: input.targetServerName })) || (await d.serverNameTaken(input.targetServerName))) ? input.targetServerName : '';
      const volumeNameExisted: string[] = [];
      for (const name of input.cloudVolumeNames) if ((await em.count(TaskVolume, { cloudVolumeName: name, task: { cloud: input.cloudId } })) || (await d.volumeNameTaken(name))) volumeNameExisted.push(name);
      const ipExisted: { networkId: string; ips: string[] }[] = [];
      for (const n of input.fixedIps) {
        const used = new Set(await d.fixedIpsInUse(n.networkId));
        const taken = n.ips.filter((ip) => used.has(ip));
        if (taken.length) ipExisted.push({ networkId: n.networkId, ips: taken });
      }
      return { taskNameExisted, serverNameExisted, volumeNameExisted, ipExisted };
    });
  }

  // -- helpers

  private where(filter: { name?: string; srcHost?: string }): FilterQuery<Task> {
    const like = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return {
      ...(filter.name ? { name: { $ilike: like(filter.name) } } : {}),
      ...(filter.srcHost ? { sourceHost: { name: { $ilike: like(filter.srcHost) } } } : {}),
    };
  }

  /** Runs `change` on the task locked in a transaction; a refused state change becomes a CONFLICT. */
  private async locked<T>(id: string, change: (em: EntityManager, task: Task) => Promise<Result<T>>): Promise<Result<T>> {
    if (!UUID.test(id)) return this.notFound(id);
    return this.inTransaction(async (em) => {
      const task = await lockTask(em, id);
      return task ? change(em, task) : this.notFound(id);
    });
  }

  /** A transaction kept only when `work` succeeds; a refused state change becomes a CONFLICT. */
  private async inTransaction<T>(work: (em: EntityManager) => Promise<Result<T>>): Promise<Result<T>> {
    try {
      return await this.deps.orm.em.fork().transactional(async (em) => {
        const result = await work(em);
        if (!result.ok) throw new Rollback(result);
        return result;
      });
    } catch (err) {
      if (err instanceof Rollback) return err.result as Result<T>;
      if (err instanceof StateRefused) return fail('CONFLICT', err.message, 'Id');
      throw err;
    }
  }

  private notFound<T>(id: string): Result<T> {
    return fail('NOT_FOUND', `There is no task ${String(id).slice(0, 64)}.`, 'Id');
  }

  private instanceOf(task: Task): InstanceSpec {
    // nullable columns read back as null
    const spec: InstanceSpec = {
      flavorId: task.flavorId, cpu: task.cpu, sockets: task.sockets, memory: task.memory, networkId: task.networkId, subnetId: task.subnetId,
      routeId: task.routeId, securityGroupId: task.securityGroupId, aggregateId: task.aggregateId, bandwidth: task.bandwidth, targetServerName: task.targetServerName,
    };
    return Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== null && v !== undefined)) as InstanceSpec;
  }

  private columnsOf(spec: InstanceSpec): Partial<Task> {
    return {
      flavorId: spec.flavorId || undefined, cpu: spec.flavorId ? undefined : spec.cpu, sockets: spec.sockets, memory: spec.flavorId ? undefined : spec.memory,
      networkId: spec.networkId || undefined, subnetId: spec.subnetId || undefined, routeId: spec.routeId || undefined, aggregateId: spec.aggregateId || undefined,
      bandwidth: spec.bandwidth, targetServerName: spec.targetServerName || undefined,
    };
  }
}

/** Carries a refusal out of a transaction so that nothing it changed is kept. */
class Rollback extends Error {
  constructor(readonly result: Result<unknown>) {
    super('rollback');
  }
}
