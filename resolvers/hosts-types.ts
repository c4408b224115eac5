import { DateTimeResolver } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { HostNetInterface, HostVolume, SourceHost as SourceHostRow } from '../entities/index.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import { Node, Payload } from './common.js';

export enum SourceVolumeUse {
  BOOT = 'boot',
  ROOT = 'root',
  DATA = 'data',
}
registerEnumType(SourceVolumeUse, { name: 'SourceVolumeUse', description: 'What a source volume holds: the boot disk, the root filesystem, or data.' });

const bytes = (value: string | undefined | null) => (value === undefined || value === null ? undefined : Number(value));

@ObjectType({ description: 'A disk of a source host, as its agent reports it.' })
export class SourceVolume {
  @Field(() => String) path!: string;
  @Field(() => String, { description: 'disk, partition, lvm, raid…' }) type!: string;
  @Field(() => Float, { description: 'bytes' }) size!: number;
  @Field(() => String, { nullable: true, description: 'MBR or GPT; none when the disk has no partition table.' }) partitionTable?: string;
  @Field(() => String, { nullable: true, description: 'The filesystem on the disk, or on its first partition that has one.' }) filesystem?: string;
  @Field(() => Float, { nullable: true, description: 'bytes free in its filesystems; none when no filesystem tells' }) freeSpace?: number;
  @Field(() => Boolean, { description: 'A filesystem has less than 100 MiB or less than 1 % of its size free.' }) freeSpaceNotEnough!: boolean;
  @Field(() => SourceVolumeUse, { nullable: true }) use?: SourceVolumeUse;
  @Field(() => Boolean) canNotBeMigrated!: boolean;
  @Field(() => String, { nullable: true, description: 'Why it cannot be migrated.' }) canNotBeMigratedReason?: string;
}

export const volumeNode = (v: HostVolume): SourceVolume =>
  Object.assign(new SourceVolume(), {
    path: v.path,
    type: v.type,
    size: Number(v.capacity),
    partitionTable: v.partitionTable ?? undefined,
    filesystem: v.filesystem ?? undefined,
    freeSpace: bytes(v.freeSpace),
    freeSpaceNotEnough: v.freeSpaceNotEnough,
    use: (v.useType ?? undefined) as string as SourceVolumeUse | undefined,
    canNotBeMigrated: v.canNotBeMigrated,
    canNotBeMigratedReason: v.canNotBeMigratedReason ?? undefined,
  });

@ObjectType({ description: 'A network interface of a source host.' })
export class NetInterface {
  @Field(() => String, { nullable: true }) name?: string;
  @Field(() => String) mac!: string;
  @Field(() => [String], { description: 'Its IP addresses, as the agent reports them.' }) ips!: string[];
}

export const netInterfaceNode = (n: HostNetInterface): NetInterface => Object.assign(new NetInterface(), { name: n.name ?? undefined, mac: n.mac, ips: n.ips });

@ObjectType({ implements: Node, description: 'An agent host: a machine to migrate, whose agent Ferry reads through a transport server.' })
export class SourceHost extends Node {
  @Field(() => String, { description: 'The plain id, as REST shows it.' }) sourceHostId!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: "The agent's `host:port`." }) mgntAddr!: string;
  @Field(() => String, { nullable: true }) osType?: string;
  @Field(() => String, { nullable: true }) osName?: string;
  @Field(() => Int, { nullable: true }) cpus?: number;
  @Field(() => Int, { nullable: true }) sockets?: number;
  @Field(() => Float, { nullable: true, description: 'bytes' }) memory?: number;
  @Field(() => String, { nullable: true }) manufacturer?: string;
  @Field(() => Float, { nullable: true, description: 'bytes, all disks' }) totalSize?: number;
  @Field(() => Boolean, { description: 'Some disk keeps the host from migrating (or it has none).' }) canNotMigrate!: boolean;
  @Field(() => String, { nullable: true }) canNotMigrateReason?: string;
  @Field(() => Boolean, { description: 'The agent did not answer when last asked.' }) offline!: boolean;
  @Field(() => DateTimeResolver, { nullable: true, description: 'When the agent last answered.' }) lastSeenAt?: Date;
  @Field(() => DateTimeResolver, { nullable: true, description: "When its agent's facts were last read." }) refreshedAt?: Date;
  @Field(() => DateTimeResolver) createdAt!: Date;
  /** the plain id of its transport server, resolved by the `transport` field */
  transportId?: string;
}

export const sourceHostNode = (h: SourceHostRow): SourceHost =>
  Object.assign(new SourceHost(), {
    id: toGlobalId('SourceHost', h.id),
    sourceHostId: h.id,
    name: h.name,
    mgntAddr: h.mgntAddr ?? '',
    osType: h.osType ?? undefined,
    osName: h.osName ?? undefined,
    cpus: h.cpu ?? undefined,
    sockets: h.sockets ?? undefined,
    memory: bytes(h.memory),
    manufacturer: h.manufacturer ?? undefined,
    totalSize: bytes(h.totalSize),
    canNotMigrate: h.canNotMigrate,
    canNotMigrateReason: h.cnmReason ?? undefined,
    offline: h.offline,
    lastSeenAt: h.lastSeenAt ?? undefined,
    refreshedAt: h.refreshedAt ?? undefined,
    createdAt: h.createdAt,
    transportId: h.transport?.id,
  });

@InputType()
export class SourceHostAddInput {
  @Field(() => String, { description: '1–32 characters' }) name!: string;
  @Field(() => ID, { description: 'The transport server that reaches the agent (global or plain id).' }) transportServerId!: string;
  @Field(() => String, { description: "The agent's `host` or `host:port` (port 7001 when omitted)." }) mgntAddr!: string;
}

@InputType()
export class SourceHostIdInput {
  @Field(() => ID) sourceHostId!: string;
}

@InputType()
export class SourceHostVerifyInput {
  @Field(() => ID) sourceHostId!: string;
  @Field(() => String, { nullable: true, description: "Another registered transport's address to try instead of the host's own." }) transAddr?: string | null;
}

@InputType()
export class SourceHostUpdateInput {
  @Field(() => ID) sourceHostId!: string;
  @Field(() => String) name!: string;
}

@ObjectType()
export class SourceHostPayload extends Payload {
  @Field(() => SourceHost, { nullable: true }) sourceHost?: SourceHost;
}

@ObjectType()
export class SourceHostVerifyPayload extends Payload {
  @Field(() => Boolean) verified!: boolean;
}

@ObjectType()
export class SourceHostDeletePayload extends Payload {
  @Field(() => ID, { nullable: true }) deletedSourceHostId?: string;
}
