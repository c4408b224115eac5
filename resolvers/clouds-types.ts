import { DateTimeResolver } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { toGlobalId } from '../src/graphql/global-id.js';
import type { CloudView } from '../src/services/clouds/cloud-service.js';
import { Node, Payload } from './common.js';

/** GraphQL names for the four cloud types; the values are the legacy API's. */
export enum CloudKind {
  OPENSTACK = 'Openstack',
  HUAYUN = 'Huayun',
  CLOUD_ULTRA_4 = 'CloudUltra 4',
  ARCHER_OS_2020 = 'ArcherOS 2020',
}
registerEnumType(CloudKind, { name: 'CloudKind', description: 'The kind of a target cloud.' });

@ObjectType({ description: 'A flavor (CPU, memory and root disk size) servers can be booted with.' })
export class CloudFlavor {
  @Field(() => String) flavorId!: string;
  @Field(() => String) name!: string;
  @Field(() => Int) vcpus!: number;
  @Field(() => Int, { description: 'MiB' }) ramMiB!: number;
  @Field(() => Int, { description: 'GiB' }) diskGiB!: number;
}

@ObjectType()
export class CloudSubnet {
  @Field(() => String) subnetId!: string;
  @Field(() => String) name!: string;
  @Field(() => String) cidr!: string;
  @Field(() => String, { nullable: true }) gatewayIp?: string;
}

@ObjectType()
export class CloudNetwork {
  @Field(() => String) networkId!: string;
  @Field(() => String) name!: string;
  @Field(() => [CloudSubnet]) subnets!: CloudSubnet[];
}

@ObjectType({ description: 'Something of the cloud known by an id and a name (security group, project, zone...).' })
export class CloudRef {
  @Field(() => String) refId!: string;
  @Field(() => String) name!: string;
}

@ObjectType()
export class CloudVolumeType {
  @Field(() => String) volumeTypeId!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true, description: 'The storage backend the type maps to, when the cloud tells.' }) backend?: string;
}

@ObjectType({ description: 'A storage backend or pool volumes are placed on.' })
export class CloudStorage {
  @Field(() => String) storageId!: string;
  @Field(() => String) name!: string;
  @Field(() => String) type!: string;
  @Field(() => Float, { nullable: true }) totalGiB?: number;
  @Field(() => Float, { nullable: true }) freeGiB?: number;
}

@ObjectType()
export class QuotaUse {
  @Field(() => Int, { description: '-1 when unlimited' }) limit!: number;
  @Field(() => Int) used!: number;
}

@ObjectType({ description: 'The project\'s quota and what is in use.' })
export class CloudQuota {
  @Field(() => QuotaUse) cores!: QuotaUse;
  @Field(() => QuotaUse, { description: 'MiB' }) ramMiB!: QuotaUse;
  @Field(() => QuotaUse) instances!: QuotaUse;
  @Field(() => QuotaUse) volumes!: QuotaUse;
  @Field(() => QuotaUse, { description: 'GiB' }) volumeGiB!: QuotaUse;
  @Field(() => QuotaUse) snapshots!: QuotaUse;
}

@ObjectType({ implements: Node, description: 'A connection to a target cloud. Its credentials are never returned.' })
export class Cloud extends Node {
  @Field(() => String, { description: 'The plain id, as REST shows it.' }) cloudId!: string;
  @Field(() => String) name!: string;
  @Field(() => CloudKind) kind!: CloudKind;
  @Field(() => String, { nullable: true }) projectName?: string;
  @Field(() => String) domain!: string;
  @Field(() => String, { description: 'Keystone user, or access key.' }) user!: string;
  @Field(() => String, { description: 'Keystone host, AK/SK domain name, or CloudUltra 4 API URL.' }) address!: string;
  @Field(() => String) port!: string;
  @Field(() => String) protocol!: string;
  @Field(() => String, { nullable: true }) ownerId?: string;
  @Field(() => String, { nullable: true }) environmentId?: string;
  @Field(() => String, { nullable: true }) zoneId?: string;
  @Field(() => String, { nullable: true }) zoneName?: string;
  @Field(() => String, { nullable: true }) regionId?: string;
  @Field(() => String, { nullable: true }) regionName?: string;
  @Field(() => DateTimeResolver) createdAt!: Date;
  @Field(() => DateTimeResolver) updatedAt!: Date;
}

export const cloudNode = (c: CloudView): Cloud => Object.assign(new Cloud(), { ...c, id: toGlobalId('Cloud', c.id), cloudId: c.id, kind: c.type as CloudKind });

@InputType({ description: 'A cloud connection. For AK/SK clouds `user` is the access key and `password` the secret key.' })
export class CloudInput {
  @Field(() => String) name!: string;
  @Field(() => CloudKind) kind!: CloudKind;
  @Field(() => String, { nullable: true }) projectName?: string;
  @Field(() => String) user!: string;
  @Field(() => String) password!: string;
  @Field(() => String, { nullable: true, description: 'http (default) or https' }) protocol?: string;
  @Field(() => String, { nullable: true, description: 'Keystone port, 5000 by default' }) port?: string;
  @Field(() => String) address!: string;
  @Field(() => String, { nullable: true }) domain?: string;
  @Field(() => String, { nullable: true }) ownerId?: string;
  @Field(() => String, { nullable: true }) environmentId?: string;
  @Field(() => String, { nullable: true }) zoneId?: string;
  @Field(() => String, { nullable: true }) zoneName?: string;
  @Field(() => String, { nullable: true }) regionId?: string;
  @Field(() => String, { nullable: true }) regionName?: string;
}

@InputType({ description: 'What to change; absent fields keep their value. New credentials are verified first.' })
export class CloudUpdateInput {
  @Field(() => ID) cloudId!: string;
  @Field(() => String, { nullable: true }) name?: string;
  @Field(() => String, { nullable: true }) projectName?: string;
  @Field(() => String, { nullable: true }) user?: string;
  @Field(() => String, { nullable: true }) password?: string;
  @Field(() => String, { nullable: true }) protocol?: string;
  @Field(() => String, { nullable: true }) port?: string;
  @Field(() => String, { nullable: true }) address?: string;
  @Field(() => String, { nullable: true }) domain?: string;
  @Field(() => String, { nullable: true }) ownerId?: string;
  @Field(() => String, { nullable: true }) environmentId?: string;
  @Field(() => String, { nullable: true }) zoneId?: string;
  @Field(() => String, { nullable: true }) zoneName?: string;
  @Field(() => String, { nullable: true }) regionId?: string;
  @Field(() => String, { nullable: true }) regionName?: string;
}

@InputType()
export class CloudDeleteInput {
  @Field(() => ID) cloudId!: string;
}

@ObjectType()
export class CloudPayload extends Payload {
  @Field(() => Cloud, { nullable: true }) cloud?: Cloud;
}

@ObjectType()
export class CloudVerifyPayload extends Payload {
  @Field(() => Boolean) verified!: boolean;
}

@ObjectType()
export class CloudDeletePayload extends Payload {
  @Field(() => ID, { nullable: true }) deletedCloudId?: string;
}

@InputType({ description: 'Access keys of an AK/SK cloud (CloudUltra 4, Huayun), for look-ups before a connection is stored.' })
export class CloudKeysInput {
  @Field(() => CloudKind) kind!: CloudKind;
  @Field(() => String, { description: "CloudUltra 4's API URL, or Huayun's domain name or URL." }) address!: string;
  @Field(() => String) accessKey!: string;
  @Field(() => String) secretKey!: string;
}

@ObjectType({ description: 'What an AK/SK cloud offers to the keys given, each list asked of the cloud when selected.' })
export class CloudDirectory {
  /** never a field: the keys stay on the server */
  keys!: CloudKeysInput;
}
