import { GraphQLError } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../src/graphql/context.js';
import { fromGlobalId } from '../src/graphql/global-id.js';
import { Cloud, cloudNode } from './clouds-types.js';
import { payload } from './common.js';
import { Connection, ConnectionArgs, pageRequest, toConnection } from './connection.js';
import {
  TransportServer, TransportServerAddInput, TransportServerDeletePayload, TransportServerIdInput, TransportServerPayload,
  TransportServerUpdateInput, TransportServerVerifyInput, TransportServerVerifyPayload, TransportServType, transportNode,
} from './transports-types.js';

const TransportServerConnection = Connection('TransportServer', TransportServer);
type TransportServerConnection = InstanceType<typeof TransportServerConnection>;

/** The service names fields as the legacy API does; GraphQL inputs as below. */
const FIELD_NAMES = { ServType: 'servType', Name: 'name', CloudId: 'cloudId', MgntAddr: 'mgntAddr', Id: 'transportServerId' };

/** A global id of `type`, or the plain id REST uses. */
const plainId = (type: string, id: string) => {
  const parsed = fromGlobalId(id);
  return parsed?.type === type ? parsed.id : id;
};
const plainTransportId = (id: string) => plainId('TransportServer', id);

@Resolver(() => TransportServer)
export class TransportServerResolver {
  @Query(() => TransportServerConnection, { description: 'Transport servers, oldest first, with the load each reports now; `name` keeps those whose name contains it.' })
  async transportServers(
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('name', () => String, { nullable: true }) name: string | undefined,
    @Arg('servType', () => TransportServType, { nullable: true }) servType: TransportServType | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<TransportServerConnection> {
    return toConnection(await ctx.services.transports.page({ name: name ?? undefined, servType: servType ?? undefined }, pageRequest(args)), transportNode);
  }

  @FieldResolver(() => Cloud, { nullable: true, description: 'The cloud it runs in; none on premises.' })
  async cloud(@Root() transport: TransportServer, @Ctx() ctx: GraphQLContext): Promise<Cloud | null> {
    if (!transport.cloudId) return null;
    const cloud = await ctx.loaders.cloud.load(transport.cloudId);
    return cloud ? cloudNode(cloud) : null;
  }

  @Mutation(() => TransportServerPayload, { description: 'Registers a transport server: checks it answers with our protocol, then pairs with it.' })
  async transportServerAdd(@Arg('input', () => TransportServerAddInput) input: TransportServerAddInput, @Ctx() ctx: GraphQLContext): Promise<TransportServerPayload> {
    const cloudId = input.cloudId ? plainId('Cloud', input.cloudId) : input.cloudId;
    const result = await ctx.services.transports.add({ ...input, cloudId });
    return payload(result, (t) => ({ transportServer: transportNode(t) }), FIELD_NAMES);
  }

  @Mutation(() => TransportServerVerifyPayload, { description: 'Checks that a transport answers (and, when registered, still accepts Ferry) without storing anything.' })
  async transportServerVerify(@Arg('input', () => TransportServerVerifyInput) input: TransportServerVerifyInput, @Ctx() ctx: GraphQLContext): Promise<TransportServerVerifyPayload> {
    const result = await ctx.services.transports.verify(input.mgntAddr);
    return { ...payload(result, () => ({}), FIELD_NAMES), verified: result.ok };
  }

  @Mutation(() => TransportServerPayload, { description: 'Reads what the transport reports again; pairs again after a local reset.' })
  async transportServerRefresh(@Arg('input', () => TransportServerIdInput) input: TransportServerIdInput, @Ctx() ctx: GraphQLContext): Promise<TransportServerPayload> {
    return payload(await ctx.services.transports.refresh(plainTransportId(input.transportServerId)), (t) => ({ transportServer: transportNode(t) }), FIELD_NAMES);
  }

  @Mutation(() => TransportServerPayload)
  async transportServerUpdate(@Arg('input', () => TransportServerUpdateInput) input: TransportServerUpdateInput, @Ctx() ctx: GraphQLContext): Promise<TransportServerPayload> {
    return payload(await ctx.services.transports.update(plainTransportId(input.transportServerId), input.name), (t) => ({ transportServer: transportNode(t) }), FIELD_NAMES);
  }

  @Mutation(() => TransportServerDeletePayload, { description: 'Deletes a transport server no source host, vSphere platform or task uses.' })
  async transportServerDelete(@Arg('input', () => TransportServerIdInput) input: TransportServerIdInput, @Ctx() ctx: GraphQLContext): Promise<TransportServerDeletePayload> {
    const result = await ctx.services.transports.remove(plainTransportId(input.transportServerId));
    return payload(result, () => ({ deletedTransportServerId: input.transportServerId }), FIELD_NAMES);
  }
}

/** The transport servers of a cloud connection, on `Cloud`. */
@Resolver(() => Cloud)
export class CloudTransportServersResolver {
  @FieldResolver(() => [TransportServer], { description: 'The transport servers running in this cloud, with the load each reports now.' })
  async transportServers(@Root() cloud: Cloud, @Ctx() ctx: GraphQLContext): Promise<TransportServer[]> {
    const list = await ctx.services.transports.list({ cloudId: cloud.cloudId });
    if (!list.ok) throw new GraphQLError(list.error.message, { extensions: { code: list.error.code } });
    return list.value.map(transportNode);
  }
}
