import { Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../src/graphql/context.js';
import { fromGlobalId } from '../src/graphql/global-id.js';
import { payload } from './common.js';
import { Connection, ConnectionArgs, pageRequest, toConnection } from './connection.js';
import {
  NetInterface, netInterfaceNode, SourceHost, SourceHostAddInput, SourceHostDeletePayload, SourceHostIdInput, sourceHostNode, SourceHostPayload,
  SourceHostUpdateInput, SourceHostVerifyInput, SourceHostVerifyPayload, SourceVolume, volumeNode,
} from './hosts-types.js';
import { TransportServer, transportNode } from './transports-types.js';

const SourceHostConnection = Connection('SourceHost', SourceHost);
type SourceHostConnection = InstanceType<typeof SourceHostConnection>;

/** The service names fields as the legacy API does; GraphQL inputs as below. */
const FIELD_NAMES = { Name: 'name', TransId: 'transportServerId', MgntAddr: 'mgntAddr', Id: 'sourceHostId', HostId: 'sourceHostId', TransAddr: 'transAddr' };

/** A global id of `type`, or the plain id REST uses. */
const plainId = (type: string, id: string) => {
  const parsed = fromGlobalId(id);
  return parsed?.type === type ? parsed.id : id;
};
const plainHostId = (id: string) => plainId('SourceHost', id);

@Resolver(() => SourceHost)
export class SourceHostResolver {
  @Query(() => SourceHostConnection, {
    description: 'Agent hosts, oldest first, as last read from their agents; `name` and `mgntAddr` keep those whose name or address contains it, `taskFree` those in no task.',
  })
  async sourceHosts(
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('name', () => String, { nullable: true }) name: string | undefined,
    @Arg('mgntAddr', () => String, { nullable: true }) mgntAddr: string | undefined,
    @Arg('taskFree', () => Boolean, { nullable: true }) taskFree: boolean | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SourceHostConnection> {
    const filter = { name: name ?? undefined, mgntAddr: mgntAddr ?? undefined, taskFree: taskFree ?? undefined };
    return toConnection(await ctx.services.hosts.page(filter, pageRequest(args)), sourceHostNode);
  }

  @FieldResolver(() => TransportServer, { nullable: true, description: 'The transport server that reaches its agent, as last seen.' })
  async transport(@Root() host: SourceHost, @Ctx() ctx: GraphQLContext): Promise<TransportServer | null> {
    if (!host.transportId) return null;
    const transport = await ctx.loaders.transport.load(host.transportId);
    return transport ? transportNode(transport) : null;
  }

  @FieldResolver(() => [SourceVolume], { description: 'Its disks, by path.' })
  async volumes(@Root() host: SourceHost, @Ctx() ctx: GraphQLContext): Promise<SourceVolume[]> {
    return (await ctx.loaders.hostVolumes.load(host.sourceHostId)).map(volumeNode);
  }

  @FieldResolver(() => [NetInterface], { description: 'Its network interfaces, by name.' })
  async netInterfaces(@Root() host: SourceHost, @Ctx() ctx: GraphQLContext): Promise<NetInterface[]> {
    return (await ctx.loaders.hostNetInterfaces.load(host.sourceHostId)).map(netInterfaceNode);
  }

  @Mutation(() => SourceHostPayload, { description: "Registers an agent host: its transport server asks the agent for its disks and NICs, which are stored." })
  async sourceHostAdd(@Arg('input', () => SourceHostAddInput) input: SourceHostAddInput, @Ctx() ctx: GraphQLContext): Promise<SourceHostPayload> {
    const result = await ctx.services.hosts.add({ name: input.name, transId: plainId('TransportServer', input.transportServerId), mgntAddr: input.mgntAddr });
    return payload(result, (h) => ({ sourceHost: sourceHostNode(h) }), FIELD_NAMES);
  }

  @Mutation(() => SourceHostPayload, { description: "Reads the agent's disks and NICs again; marks the host offline when its agent does not answer." })
  async sourceHostRefresh(@Arg('input', () => SourceHostIdInput) input: SourceHostIdInput, @Ctx() ctx: GraphQLContext): Promise<SourceHostPayload> {
    return payload(await ctx.services.hosts.refresh(plainHostId(input.sourceHostId)), (h) => ({ sourceHost: sourceHostNode(h) }), FIELD_NAMES);
  }

  @Mutation(() => SourceHostVerifyPayload, { description: "Checks that the host's transport (or the one at `transAddr`) reaches its agent, without storing anything." })
  async sourceHostVerify(@Arg('input', () => SourceHostVerifyInput) input: SourceHostVerifyInput, @Ctx() ctx: GraphQLContext): Promise<SourceHostVerifyPayload> {
    const result = await ctx.services.hosts.verify(plainHostId(input.sourceHostId), input.transAddr ?? undefined);
    return { ...payload(result, () => ({}), FIELD_NAMES), verified: result.ok };
  }

  @Mutation(() => SourceHostPayload)
  async sourceHostUpdate(@Arg('input', () => SourceHostUpdateInput) input: SourceHostUpdateInput, @Ctx() ctx: GraphQLContext): Promise<SourceHostPayload> {
    return payload(await ctx.services.hosts.update(plainHostId(input.sourceHostId), input.name), (h) => ({ sourceHost: sourceHostNode(h) }), FIELD_NAMES);
  }

  @Mutation(() => SourceHostDeletePayload, { description: 'Deletes an agent host no task uses.' })
  async sourceHostDelete(@Arg('input', () => SourceHostIdInput) input: SourceHostIdInput, @Ctx() ctx: GraphQLContext): Promise<SourceHostDeletePayload> {
    const result = await ctx.services.hosts.remove(plainHostId(input.sourceHostId));
    return payload(result, () => ({ deletedSourceHostId: input.sourceHostId }), FIELD_NAMES);
  }
}

/** The agent hosts a transport server reaches, on `TransportServer`. */
@Resolver(() => TransportServer)
export class TransportServerSourceHostsResolver {
  @FieldResolver(() => [SourceHost], { description: 'The agent hosts whose agents it reaches, oldest first.' })
  async sourceHosts(@Root() transport: TransportServer, @Ctx() ctx: GraphQLContext): Promise<SourceHost[]> {
    return (await ctx.loaders.transportHosts.load(transport.transportServerId)).map(sourceHostNode);
  }
}
