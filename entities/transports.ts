import { Index, Entity, Enum, ManyToOne, PrimaryKey, Property, type Ref, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base.js';
import { CloudConnection } from './clouds.js';

export enum TransportServType {
  OnPremises = 'On-Premises',
  Cloud = 'Cloud',
}

export enum StorageType {
  Local = 'LOCAL',
  Arstor = 'ARSTOR',
  Fcsan = 'FCSAN',
  Ipsan = 'IPSAN',
  Xsky = 'XSKY',
}

@Entity({ tableName: 'transport_servers' })
export class TransportServer extends BaseEntity {
  @Property({ type: 'string', length: 64 })
  name!: string;

  @Enum({ items: () => TransportServType })
  servType!: TransportServType;

  /** the cloud it runs in; absent for an on-premises transport */
  @Index()
  @ManyToOne(() => CloudConnection, { ref: true, nullable: true, deleteRule: 'restrict' })
  cloud?: Ref<CloudConnection>;

  /** `host` or `host:port` */
  @Property({ type: 'string', length: 255, unique: true })
  mgntAddr!: string;

  @Property({ type: 'integer', default: 0 })
  maxSupportedTasks: Opt<number> = 0;

  @Property({ type: 'integer', default: 0 })
  currentTasks: Opt<number> = 0;

  @Property({ type: 'string', length: 255, nullable: true })
  storageId?: string;

  @Enum({ items: () => StorageType, nullable: true })
  storageType?: StorageType;

  @Property({ type: 'string', length: 32, nullable: true })
  protocolVersion?: string;

  /** the transport's own server in its cloud, as it reports it: task volumes are attached to it */
  @Property({ type: 'string', length: 255, nullable: true })
  cloudServerId?: string;

  /** the transport's own id, from its pairing answer; its events carry it */
  @Property({ type: 'string', length: 64, nullable: true, unique: true })
  transportId?: string;

  /** the pairing secret the transport handed out, sealed with Ferry's master key */
  @Property({ type: 'text', nullable: true, hidden: true })
  pairingSecretSealed?: string;

  @Property({ type: 'boolean', default: false })
  offline: Opt<boolean> = false;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  lastSeenAt?: Date;
}

/**
 * An event a transport delivered, by the transport's event id: delivery is at least once, so
 * this is how every Ferry replica, across restarts, recognises a repeat.
 */
@Entity({ tableName: 'transport_event_receipts' })
export class TransportEventReceipt {
  /** text: the transport chooses it (a UUID from Ferry's own transports) */
  @PrimaryKey({ type: 'text' })
  eventId!: string;

  /** the transport's own id (`TransportServer.transportId`) */
  @Property({ type: 'string', length: 64 })
  transportId!: string;

  @Property({ type: 'text' })
  type!: string;

  @Index()
  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  receivedAt: Opt<Date> = new Date();
}
