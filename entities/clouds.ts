import { Entity, Enum, Property, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base.js';

export enum CloudType {
  Openstack = 'Openstack',
  Huayun = 'Huayun',
  CloudUltra4 = 'CloudUltra 4',
  ArcherOS2020 = 'ArcherOS 2020',
}

@Entity({ tableName: 'cloud_connections' })
export class CloudConnection extends BaseEntity {
  @Property({ type: 'string', length: 64, unique: true })
  name!: string;

  @Enum({ items: () => CloudType })
  cloudType!: CloudType;

  @Property({ type: 'string', length: 255, nullable: true })
  projectName?: string;

  @Property({ type: 'string', length: 255, default: 'Default' })
  domain: Opt<string> = 'Default';

  /** Keystone user name or access key */
  @Property({ type: 'string', length: 255 })
  cloudUser!: string;

  /** Keystone password or secret key, sealed with Ferry's master key */
  @Property({ type: 'text', hidden: true })
  cloudPassSealed!: string;

  @Property({ type: 'string', length: 8, default: 'http' })
  identityProtocol: Opt<string> = 'http';

  @Property({ type: 'string', length: 8, default: '5000' })
  identityPort: Opt<string> = '5000';

  /** Keystone address, or the domain name of an AK/SK cloud */
  @Property({ type: 'string', length: 255 })
  cloudAddr!: string;

  @Property({ type: 'string', length: 512, nullable: true })
  apiMgntUrl?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  accountId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  ownerId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  environmentId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  zoneId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  zoneName?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  regionId?: string;

  @Property({ type: 'string', length: 255, nullable: true })
  regionName?: string;

  @Property({ type: 'datetime', columnType: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();
}
