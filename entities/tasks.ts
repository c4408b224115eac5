import { Collection, Entity, Index, ManyToOne, OneToMany, PrimaryKey, Property, Unique, type Ref, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base.js';
import { CloudConnection } from './clouds.js';
import { SourceHost } from './hosts.js';
import { TransportServer } from './transports.js';

/** `ActionState` of the spec; only the task state machine writes it. */
export enum ActionState {
  Created = 1000,
  WaitSnapshot = 1001,
  Snapshotted = 1002,
  Error = 1003,
  Stopped = 1004,
  Success = 1005,
  ExecuteV2V = 1006,
  WaitRecovery = 1007,
  InRecovery = 1008,
  Completed = 1009,
}

/** `LastSync` of the spec. */
export enum LastSync {
  Normal = 0,
  Requested = 1,
  Running = 2,
}

@Entity({ tableName: 'tasks' })
@Index({ properties: ['actionState'] })
export class Task extends BaseEntity {
  @Property({ type: 'string', length: 255, unique: true })
  name!: string;

  /** larger runs first */
  @Property({ type: 'integer', default: 0 })
  priority: Opt<number> = 0;

  @Index()
  @ManyToOne(() => SourceHost, { ref: true, deleteRule: 'restrict' })
  sourceHost!: Ref<SourceHost>;

  @Index()
  @ManyToOne(() => CloudConnection, { ref: true, deleteRule: 'restrict' })
  cloud!: Ref<CloudConnection>;

  @Index()
  @ManyToOne(() => TransportServer, { ref: true, nullable: true, deleteRule: 'restrict' })
  srcTransport?: Ref<TransportServer>;

  @Index()
  @ManyToOne(() => TransportServer, { ref: true, deleteRule: 'restrict' })
  targetTransport!: Ref<TransportServer>;

  @Property({ type: 'string', length: 255, nullable: true })
  storageId?: string;

  @Property({ type: 'integer' })
  intervalMinutes!: number;

  @Property({ type: 'integer' })
  maxSnapsNum!: number;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  startTime!: Date;

  @Property({ type: 'boolean', default: false })
  isCompressed: Opt<boolean> = false;

  /** MB/s; 0 means no limit */
  @Property({ type: 'integer', default: 0 })
  qosLimit: Opt<number> = 0;

  @Property({ type: 'string', length: 255, nullable: true })
  flavorId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  networkId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  subnetId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  routeId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  securityGroupId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  aggregateId?: string;

  @Property({ type: 'integer', nullable: true })
  cpu?: number;

  @Property({ type: 'integer', nullable: true })
  sockets?: number;

  /** GB */
  @Property({ type: 'integer', nullable: true })
  memory?: number;

  @Property({ type: 'integer', nullable: true })
  bandwidth?: number;

  @Property({ type: 'string', length: 255, nullable: true })
  targetServerName?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  targetServerId?: string;

  @Property({ type: 'smallint', default: ActionState.Created })
  actionState: Opt<ActionState> = ActionState.Created;

  @Property({ type: 'smallint', default: LastSync.Normal })
  lastSync: Opt<LastSync> = LastSync.Normal;

  @Property({ type: 'integer', default: 0 })
  snapTimes: Opt<number> = 0;

  @Property({ type: 'text', default: '' })
  status: Opt<string> = '';

  /** bytes of the current copy */
  @Property({ type: 'bigint', default: 0 })
  snapshotSize: Opt<string> = '0';

  @Property({ type: 'bigint', default: 0 })
  transferredSize: Opt<string> = '0';

  /** seconds left in the current copy */
  @Property({ type: 'bigint', nullable: true })
  predictDoneSeconds?: string;

  // -- the engine's schedule (src/engine): which step runs next and when; null when it waits for the user

  /** the next step of the flow (src/engine/steps.ts), or null when the task waits for the user or is done */
  @Property({ type: 'string', length: 32, nullable: true })
  step?: string;

  /** when `step` is due */
  @Index()
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  dueAt?: Date;

  /** while in error (1003): the step that failed and the state the task was in, for ContinueTask */
  @Property({ type: 'string', length: 32, nullable: true })
  failedStep?: string;

  @Property({ type: 'smallint', nullable: true })
  failedState?: ActionState;

  /** consecutive failures of the current step that were retried automatically */
  @Property({ type: 'integer', default: 0 })
  attempts: Opt<number> = 0;

  /** the transport's cycle running or last run, `<task id>.<SnapTimes>` */
  @Property({ type: 'string', length: 80, nullable: true })
  cycleId?: string;

  @Property({ type: 'string', length: 80, nullable: true })
  conversionId?: string;

  // -- progress of the current copy, from the transport's measured bytes

  /** per disk: `{ disk, sizeBytes, scannedBytes, wireBytes, writtenBytes }` */
  @Property({ type: 'json', nullable: true })
  progressDisks?: DiskProgress[];

  /** bytes read and compared by every copy so far (finished ones and the current one): throughput samples use it */
  @Property({ type: 'bigint', default: 0 })
  movedBytes: Opt<string> = '0';

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  progressAt?: Date;

  /** last per-task event sequence number handed out */
  @Property({ type: 'bigint', default: 0 })
  eventSeq: Opt<string> = '0';

  @Property({ type: 'datetime', columnType: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  /** in source order (`position`) */
  @OneToMany(() => TaskVolume, (v) => v.task, { orphanRemoval: true, orderBy: { position: 'asc' } })
  volumes = new Collection<TaskVolume>(this);

  @OneToMany(() => TaskNetInterface, (n) => n.task, { orphanRemoval: true })
  netInterfaces = new Collection<TaskNetInterface>(this);
}

/** One disk of the current copy, as the transport last reported it. */
export interface DiskProgress {
  disk: string;
  sizeBytes: number;
  scannedBytes: number;
  wireBytes: number;
  writtenBytes: number;
}

/** Samples of a task's `movedBytes`, kept 30 minutes, for throughput over the last 2 and 30 minutes. */
@Entity({ tableName: 'task_progress_samples' })
@Index({ properties: ['task', 'at'] })
export class TaskProgressSample {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Task, { ref: true, deleteRule: 'cascade' })
  task!: Ref<Task>;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  at!: Date;

  @Property({ type: 'bigint' })
  movedBytes!: string;
}

@Entity({ tableName: 'task_volumes' })
export class TaskVolume extends BaseEntity {
  @Index()
  @ManyToOne(() => Task, { ref: true, deleteRule: 'cascade' })
  task!: Ref<Task>;

  /** the source disk, e.g. /dev/vda */
  @Property({ type: 'string', length: 255 })
  volumeName!: string;

  @Property({ type: 'string', length: 255, nullable: true })
  volumeType?: string;

  @Property({ type: 'integer' })
  volumeSizeGb!: number;

  @Property({ type: 'string', length: 255, nullable: true })
  cloudVolumeName?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  cloudVolumeId?: string;

  @Property({ type: 'boolean', default: false })
  preAlloc: Opt<boolean> = false;

  @Property({ type: 'string', length: 255, nullable: true })
  storageId?: string;

  /** the source's boot disk: its cloud volume is made bootable and boots the migrated server */
  @Property({ type: 'boolean', default: false })
  boot: Opt<boolean> = false;

  /** source disk size in bytes, as the agent reported it */
  @Property({ type: 'bigint', default: 0 })
  sizeBytes: Opt<string> = '0';

  /** order of the disk on the source (the boot disk first when the server boots) */
  @Property({ type: 'integer', default: 0 })
  position: Opt<number> = 0;

  /** the device the volume is attached as on the target transport */
  @Property({ type: 'string', length: 1024, nullable: true })
  device?: string;

  /** vSphere changed-block tracking: the disk's changeId as of the last copy that finished; the next copy asks what changed since */
  @Property({ type: 'string', length: 255, nullable: true })
  cbtChangeId?: string;

  /** the changeId of the snapshot the running copy reads: it becomes cbtChangeId once that copy finished */
  @Property({ type: 'string', length: 255, nullable: true })
  cbtPendingChangeId?: string;
}

@Entity({ tableName: 'task_net_interfaces' })
export class TaskNetInterface extends BaseEntity {
  @Index()
  @ManyToOne(() => Task, { ref: true, deleteRule: 'cascade' })
  task!: Ref<Task>;

  @Property({ type: 'string', length: 255, nullable: true })
  networkId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  securityGroupId?: string;

  @Property({ type: 'string', length: 32, nullable: true })
  mac?: string;

  /** [{ SubnetId, Ip }] */
  @Property({ type: 'json' })
  subnets: { subnetId: string; ip?: string }[] = [];
}

/** One cloud snapshot set taken after a copy cycle. */
@Entity({ tableName: 'task_snapshots' })
@Unique({ properties: ['task', 'cycle'] })
export class TaskSnapshot extends BaseEntity {
  @ManyToOne(() => Task, { ref: true, deleteRule: 'cascade' })
  task!: Ref<Task>;

  /** the copy cycle (SnapTimes) the snapshot closes */
  @Property({ type: 'integer' })
  cycle!: number;

  /** cloud snapshot id per task volume id */
  @Property({ type: 'json' })
  cloudSnapshotIds: Opt<Record<string, string>> = {};

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  deletedAt?: Date;
}

/**
 * The durable task event log. `id` is a global cursor for subscriptions;
 * `seq` numbers a task's events without gaps.
 */
@Entity({ tableName: 'task_events' })
@Unique({ properties: ['task', 'seq'] })
export class TaskEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Task, { ref: true, deleteRule: 'cascade' })
  task!: Ref<Task>;

  @Property({ type: 'bigint' })
  seq!: string;

  @Property({ type: 'string', length: 64 })
  type!: string;

  @Property({ type: 'text' })
  message!: string;

  @Property({ type: 'json', nullable: true })
  payload?: Record<string, unknown>;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}
