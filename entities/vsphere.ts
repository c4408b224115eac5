import { Index, Entity, ManyToOne, Property, Unique, type Ref, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base.js';
import { TransportServer } from './transports.js';

@Entity({ tableName: 'vsphere_platforms' })
export class VspherePlatform extends BaseEntity {
  @Property({ type: 'string', length: 64 })
  name!: string;

  @Property({ type: 'string', length: 255 })
  ip!: string;

  @Property({ type: 'string', length: 255 })
  userName!: string;

  @Property({ type: 'text', hidden: true })
  passwdSealed!: string;

  @Index()
  @ManyToOne(() => TransportServer, { ref: true, nullable: true, deleteRule: 'restrict' })
  transport?: Ref<TransportServer>;

  @Property({ type: 'boolean', default: false })
  isVcenter: Opt<boolean> = false;

  /** vCenter's `about.instanceUuid`: with a VM's instanceUuid it names the VM for good */
  @Property({ type: 'string', length: 64, nullable: true })
  instanceUuid?: string;

  /** SHA-256 thumbprint of the TLS certificate accepted at AddVSPlatform */
  @Property({ type: 'string', length: 128, nullable: true })
  certThumbprint?: string;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  refreshedAt?: Date;
}

/** Columns shared by the managed objects read from vCenter. */
abstract class VsphereObject extends BaseEntity {
  @ManyToOne(() => VspherePlatform, { ref: true, deleteRule: 'cascade' })
  platform!: Ref<VspherePlatform>;

  /** managed object reference, e.g. `datacenter-2` */
  @Property({ type: 'string', length: 128 })
  moref!: string;

  @Property({ type: 'string', length: 255 })
  name!: string;
}

@Entity({ tableName: 'vsphere_datacenters' })
@Unique({ properties: ['platform', 'moref'] })
export class VsphereDatacenter extends VsphereObject {}

@Entity({ tableName: 'vsphere_clusters' })
@Unique({ properties: ['platform', 'moref'] })
export class VsphereCluster extends VsphereObject {
  @Index()
  @ManyToOne(() => VsphereDatacenter, { ref: true, deleteRule: 'cascade' })
  datacenter!: Ref<VsphereDatacenter>;
}

/** An ESXi host, in a cluster or standalone. */
@Entity({ tableName: 'vsphere_hosts' })
@Unique({ properties: ['platform', 'moref'] })
export class VsphereHost extends VsphereObject {
  @Index()
  @ManyToOne(() => VsphereDatacenter, { ref: true, deleteRule: 'cascade' })
  datacenter!: Ref<VsphereDatacenter>;

  @Index()
  @ManyToOne(() => VsphereCluster, { ref: true, nullable: true, deleteRule: 'cascade' })
  cluster?: Ref<VsphereCluster>;
}

/** A VM folder; folders nest to any depth. */
@Entity({ tableName: 'vsphere_folders' })
@Unique({ properties: ['platform', 'moref'] })
export class VsphereFolder extends VsphereObject {
  @Index()
  @ManyToOne(() => VsphereDatacenter, { ref: true, deleteRule: 'cascade' })
  datacenter!: Ref<VsphereDatacenter>;

  @Index()
  @ManyToOne(() => VsphereFolder, { ref: true, nullable: true, deleteRule: 'cascade' })
  parent?: Ref<VsphereFolder>;
}
