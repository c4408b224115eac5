import { DateTimeResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { toGlobalId } from '../src/graphql/global-id.js';
import type { TransportView } from '../src/services/transports/transport-service.js';
import { Node, Payload } from './common.js';

/** GraphQL names for the legacy ServType values. */
export enum TransportServType {
  ON_PREMISES = 'On-Premises',
  CLOUD = 'Cloud',
}
registerEnumType(TransportServType, { name: 'TransportServType', description: 'Where a transport server runs: in the target cloud (required for a task), or on premises beside the source hosts.' });

export enum TransportStorageType {
  LOCAL = 'LOCAL',
  ARSTOR = 'ARSTOR',
  FCSAN = 'FCSAN',
  IPSAN = 'IPSAN',
  XSKY = 'XSKY',
}
registerEnumType(TransportStorageType, { name: 'TransportStorageType', description: 'The storage the transport writes target volumes on.' });

@ObjectType({ implements: Node, description: 'A transport server Ferry is paired with. Its pairing secret is never returned.' })
export class TransportServer extends Node {
  @Field(() => String, { description: 'The plain id, as REST shows it.' }) transportServerId!: string;
  @Field(() => String) name!: string;
  @Field(() => TransportServType) servType!: TransportServType;
  @Field(() => String, { description: '`host:port`' }) mgntAddr!: string;
  @Field(() => Int) maxSupportedTasks!: number;
  @Field(() => Int, { description: 'As the transport reports it now; the last known value when it does not answer.' }) currentTasks!: number;
  @Field(() => String, { nullable: true }) storageId?: string;
  @Field(() => TransportStorageType, { nullable: true }) storageType?: TransportStorageType;
  @Field(() => Boolean, { description: 'The transport did not answer when last asked.' }) offline!: boolean;
  @Field(() => DateTimeResolver, { nullable: true }) lastSeenAt?: Date;
  @Field(() => DateTimeResolver) createdAt!: Date;
  /** the plain id of its cloud connection, resolved by the `cloud` field */
  cloudId?: string;
}

export const transportNode = (t: TransportView): TransportServer =>
  Object.assign(new TransportServer(), {
    ...t,
    id: toGlobalId('TransportServer', t.id),
    transportServerId: t.id,
    servType: t.servType as string as TransportServType,
    storageType: t.storageType as string as TransportStorageType | undefined,
  });

@InputType()
export class TransportServerAddInput {
  @Field(() => TransportServType) servType!: TransportServType;
  @Field(() => String, { description: '1–64 characters' }) name!: string;
  @Field(() => ID, { nullable: true, description: 'The cloud connection it runs in: required for CLOUD, absent for ON_PREMISES.' }) cloudId?: string | null;
  @Field(() => String, { description: '`host` or `host:port` (port 7002 when omitted)' }) mgntAddr!: string;
}

@InputType()
export class TransportServerVerifyInput {
  @Field(() => String) mgntAddr!: string;
}

@InputType()
export class TransportServerIdInput {
  @Field(() => ID) transportServerId!: string;
}

@InputType()
export class TransportServerUpdateInput {
  @Field(() => ID) transportServerId!: string;
  @Field(() => String) name!: string;
}

@ObjectType()
export class TransportServerPayload extends Payload {
  @Field(() => TransportServer, { nullable: true }) transportServer?: TransportServer;
}

@ObjectType()
export class TransportServerVerifyPayload extends Payload {
  @Field(() => Boolean) verified!: boolean;
}

@ObjectType()
export class TransportServerDeletePayload extends Payload {
  @Field(() => ID, { nullable: true }) deletedTransportServerId?: string;
}
