import { Collection, Entity, Enum, Index, ManyToOne, OneToMany, Property, Unique, type Ref, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base.js';
import { TransportServer } from './transports.js';
import { VsphereFolder, VsphereHost, VspherePlatform } from './vsphere.js';

/**
 * A machine to migrate: an agent ("Packer") host, or a vSphere VM reached without an agent
 * (`agent` false, placed by its platform, ESXi host and folder).
 */
@Entity({ tableName: 'source_hosts' })
@Unique({ properties: ['platform', 'vmInstanceUuid'] })
export class SourceHost extends BaseEntity {
  @Property({ type: 'string', length: 255 })
  name!: string;

  @Property({ type: 'boolean' })
  agent!: boolean;

  @Index()
  @ManyToOne(() => TransportServer, { ref: true, nullable: true, deleteRule: 'restrict' })
  transport?: Ref<TransportServer>;

  /** agent address, `host` or `host:port` */
  @Index()
  @Property({ type: 'string', length: 255, nullable: true })
  mgntAddr?: string;

  @Property({ type: 'boolean', default: false })
  offline: Opt<boolean> = false;

  /** when the agent last answered (an agent host's periodic check or refresh) */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  lastSeenAt?: Date;

  @Property({ type: 'string', length: 64, nullable: true })
  osType?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  osName?: string;

  @Property({ type: 'integer', nullable: true })
  cpu?: number;

  @Property({ type: 'integer', nullable: true })
  sockets?: number;

  /** bytes */
  @Property({ type: 'bigint', nullable: true })
  memory?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  manufacturer?: string;

  /** bytes, all disks */
  @Property({ type: 'bigint', nullable: true })
  totalSize?: string;

  @Property({ type: 'string', length: 64, nullable: true })
  hostType?: string;

  @Property({ type: 'boolean', default: false })
  canNotMigrate: Opt<boolean> = false;

  @Property({ type: 'text', nullable: true })
  cnmReason?: string;

  @ManyToOne(() => VspherePlatform, { ref: true, nullable: true, deleteRule: 'cascade' })
  platform?: Ref<VspherePlatform>;

  @Index()
  @ManyToOne(() => VsphereHost, { ref: true, nullable: true, deleteRule: 'set null' })
  esxiHost?: Ref<VsphereHost>;

  @Index()
  @ManyToOne(() => VsphereFolder, { ref: true, nullable: true, deleteRule: 'set null' })
  folder?: Ref<VsphereFolder>;

  @Property({ type: 'string', length: 128, nullable: true })
  vmMoref?: string;

  /** `config.uuid` (the BIOS UUID, may be shared by clones) */
  @Property({ type: 'string', length: 64, nullable: true })
  vmUuid?: string;

  /** `config.instanceUuid`, unique within a vCenter */
  @Property({ type: 'string', length: 64, nullable: true })
  vmInstanceUuid?: string;

  @Property({ type: 'string', length: 32, nullable: true })
  powerState?: string;

  /** set when the VM vanished from vCenter while a task still uses it */
  @Property({ type: 'boolean', default: false })
  missing: Opt<boolean> = false;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  refreshedAt?: Date;

  @OneToMany(() => HostVolume, (v) => v.host, { orphanRemoval: true })
  volumes = new Collection<HostVolume>(this);

  @OneToMany(() => HostNetInterface, (n) => n.host, { orphanRemoval: true })
  netInterfaces = new Collection<HostNetInterface>(this);
}

export enum VolumeUseType {
  Boot = 'boot',
  Root = 'root',
  Data = 'data',
}

@Entity({ tableName: 'host_volumes' })
export class HostVolume extends BaseEntity {
  @Index()
  @ManyToOne(() => SourceHost, { ref: true, deleteRule: 'cascade' })
  host!: Ref<SourceHost>;

  @Property({ type: 'string', length: 255 })
  path!: string;

  /** lvm, partition, disk, dmraid, raid */
  @Property({ type: 'string', length: 32 })
  type!: string;

  @Property({ type: 'string', length: 32, nullable: true })
  filesystem?: string;

  /** MBR or GPT */
  @Property({ type: 'string', length: 8, nullable: true })
  partitionTable?: string;

  /** bytes */
  @Property({ type: 'bigint' })
  capacity!: string;

  @Enum({ items: () => VolumeUseType, nullable: true })
  useType?: VolumeUseType;

  /** bytes, where the filesystem tells */
  @Property({ type: 'bigint', nullable: true })
  freeSpace?: string;

  @Property({ type: 'boolean', default: false })
  freeSpaceNotEnough: Opt<boolean> = false;

  @Property({ type: 'boolean', default: false })
  canNotBeMigrated: Opt<boolean> = false;

  @Property({ type: 'text', nullable: true })
  canNotBeMigratedReason?: string;

  /** vSphere disks: backing file and controller */
  @Property({ type: 'string', length: 1024, nullable: true })
  backingFile?: string;

  @Property({ type: 'string', length: 64, nullable: true })
  controller?: string;
}

@Entity({ tableName: 'host_net_interfaces' })
export class HostNetInterface extends BaseEntity {
  @Index()
  @ManyToOne(() => SourceHost, { ref: true, deleteRule: 'cascade' })
  host!: Ref<SourceHost>;

  @Property({ type: 'string', length: 64, nullable: true })
  name?: string;

  @Property({ type: 'string', length: 32 })
  mac!: string;

  @Property({ type: 'json' })
  ips: Opt<string[]> = [];

  /** vSphere NICs: the port group / network name */
  @Property({ type: 'string', length: 255, nullable: true })
  network?: string;
}
