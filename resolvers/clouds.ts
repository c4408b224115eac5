import { GraphQLError } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../src/graphql/context.js';
import { fromGlobalId } from '../src/graphql/global-id.js';
import type { Result } from '../src/services/errors.js';
import { payload, toUserError } from './common.js';
import { Connection, ConnectionArgs, pageRequest, toConnection } from './connection.js';
import {
  Cloud, CloudDeleteInput, CloudDeletePayload, CloudDirectory, CloudFlavor, CloudKeysInput, CloudInput, CloudNetwork, CloudPayload, CloudQuota, CloudRef,
  CloudStorage, CloudUpdateInput, CloudVerifyPayload, CloudVolumeType, cloudNode,
} from './clouds-types.js';

const CloudConnection = Connection('Cloud', Cloud);
type CloudConnection = InstanceType<typeof CloudConnection>;

/** The service names fields as the legacy API does; GraphQL inputs as below. */
const FIELD_NAMES = {
  CloudName: 'name', Name: 'name', CloudType: 'kind', CloudPass: 'password', CloudUser: 'user', CloudAddr: 'address',
  IdentityPort: 'port', IdentityProtocal: 'protocol', ProjectName: 'projectName', Id: 'cloudId',
};

/** A live look-up failed (bad input, the cloud refused, or is unreachable): a field error with the service's message. */
function lookup<T>(result: Result<T>, fieldNames: Record<string, string> = FIELD_NAMES): T {
  if (!result.ok) {
    const { code, field } = toUserError(result.error, fieldNames);
    throw new GraphQLError(result.error.message, { extensions: { code, ...(field ? { field } : {}) } });
  }
  return result.value;
}

/** A global id of a Cloud, or the plain id REST uses. */
const plainCloudId = (id: string) => {
  const parsed = fromGlobalId(id);
  return parsed?.type === 'Cloud' ? parsed.id : id;
};

@Resolver(() => Cloud)
export class CloudResolver {
  @Query(() => CloudConnection, { description: 'Cloud connections, oldest first; `name` keeps those whose name contains it.' })
  async clouds(@Args(() => ConnectionArgs) args: ConnectionArgs, @Arg('name', () => String, { nullable: true }) name: string | undefined, @Ctx() ctx: GraphQLContext): Promise<CloudConnection> {
    return toConnection(await ctx.services.clouds.page({ name }, pageRequest(args)), cloudNode);
  }

  @FieldResolver(() => [CloudFlavor], { description: 'Asked of the cloud now.' })
  async flavors(@Root() cloud: Cloud, @Ctx() ctx: GraphQLContext): Promise<CloudFlavor[]> {
    return lookup(await ctx.services.clouds.flavors(cloud.cloudId)).map((f) => ({ ...f, flavorId: f.id }));
  }

  @FieldResolver(() => [CloudNetwork], { description: 'Asked of the cloud now.' })
  async networks(@Root() cloud: Cloud, @Ctx() ctx: GraphQLContext): Promise<CloudNetwork[]> {
    return lookup(await ctx.services.clouds.networks(cloud.cloudId)).map((n) => ({ networkId: n.id, name: n.name, subnets: n.subnets.map((s) => ({ ...s, subnetId: s.id })) }));
  }

  @FieldResolver(() => [CloudRef], { description: 'Asked of the cloud now.' })
  async securityGroups(@Root() cloud: Cloud, @Ctx() ctx: GraphQLContext): Promise<CloudRef[]> {
    return lookup(await ctx.services.clouds.securityGroups(cloud.cloudId)).map((g) => ({ refId: g.id, name: g.name }));
  }

  @FieldResolver(() => [CloudVolumeType], { description: 'Asked of the cloud now.' })
  async volumeTypes(@Root() cloud: Cloud, @Ctx() ctx: GraphQLContext): Promise<CloudVolumeType[]> {
    return lookup(await ctx.services.clouds.volumeTypes(cloud.cloudId)).map((t) => ({ ...t, volumeTypeId: t.id }));
  }

  @FieldResolver(() => [CloudStorage], { description: 'Asked of the cloud now.' })
  async storages(@Root() cloud: Cloud, @Ctx() ctx: GraphQLContext): Promise<CloudStorage[]> {
    return lookup(await ctx.services.clouds.storages(cloud.cloudId)).map((s) => ({ ...s, storageId: s.id }));
  }

  @FieldResolver(() => CloudQuota, { description: 'Asked of the cloud now.' })
  async quota(@Root() cloud: Cloud, @Ctx() ctx: GraphQLContext): Promise<CloudQuota> {
    return lookup(await ctx.services.clouds.quota(cloud.cloudId));
  }

  @Mutation(() => CloudPayload, { description: 'Adds a cloud connection after verifying its credentials.' })
  async cloudAdd(@Arg('input', () => CloudInput) input: CloudInput, @Ctx() ctx: GraphQLContext): Promise<CloudPayload> {
    const result = await ctx.services.clouds.add({ ...input, type: input.kind });
    return payload(result, (c) => ({ cloud: cloudNode(c) }), FIELD_NAMES);
  }

  @Mutation(() => CloudVerifyPayload, { description: 'Checks credentials against the cloud without storing anything.' })
  async cloudVerify(@Arg('input', () => CloudInput) input: CloudInput, @Ctx() ctx: GraphQLContext): Promise<CloudVerifyPayload> {
    const result = await ctx.services.clouds.verify({ ...input, type: input.kind });
    return { ...payload(result, () => ({}), FIELD_NAMES), verified: result.ok };
  }

  @Mutation(() => CloudPayload)
  async cloudUpdate(@Arg('input', () => CloudUpdateInput) input: CloudUpdateInput, @Ctx() ctx: GraphQLContext): Promise<CloudPayload> {
    const { cloudId, ...patch } = input;
    return payload(await ctx.services.clouds.update(plainCloudId(cloudId), patch), (c) => ({ cloud: cloudNode(c) }), FIELD_NAMES);
  }

  @Mutation(() => CloudDeletePayload, { description: 'Deletes a cloud connection no transport server depends on.' })
  async cloudDelete(@Arg('input', () => CloudDeleteInput) input: CloudDeleteInput, @Ctx() ctx: GraphQLContext): Promise<CloudDeletePayload> {
    return payload(await ctx.services.clouds.remove(plainCloudId(input.cloudId)), () => ({ deletedCloudId: input.cloudId }), FIELD_NAMES);
  }
}

/** The look-ups that carry their own credentials (legacy ListProject, ListEnvironment, ListZone, ListRegion). */
@Resolver(() => CloudDirectory)
export class CloudDirectoryResolver {
  @Query(() => CloudDirectory, { description: 'Projects, environments, zones and regions an AK/SK cloud offers to these keys; nothing is stored.' })
  cloudDirectory(@Arg('keys', () => CloudKeysInput) keys: CloudKeysInput): CloudDirectory {
    return Object.assign(new CloudDirectory(), { keys });
  }

  @FieldResolver(() => [CloudRef], { description: 'CloudUltra 4 owners (projects).' })
  async projects(@Root() dir: CloudDirectory, @Ctx() ctx: GraphQLContext): Promise<CloudRef[]> {
    return refsOf(await ctx.services.clouds.projectsWith(keysInput(dir.keys)));
  }

  @FieldResolver(() => [CloudRef], { description: 'CloudUltra 4 environments; `hypervisorType` (KVM, VMWARE) keeps those of that hypervisor.' })
  async environments(@Root() dir: CloudDirectory, @Arg('hypervisorType', () => String, { nullable: true }) hypervisorType: string | undefined, @Ctx() ctx: GraphQLContext): Promise<CloudRef[]> {
    return refsOf(await ctx.services.clouds.environmentsWith(keysInput(dir.keys), hypervisorType ?? undefined));
  }

  @FieldResolver(() => [CloudRef], { description: 'CloudUltra 4 zones of an owner in an environment.' })
  async zones(
    @Root() dir: CloudDirectory,
    @Arg('ownerId', () => String, { nullable: true }) ownerId: string | undefined,
    @Arg('environmentId', () => String, { nullable: true }) environmentId: string | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CloudRef[]> {
    return refsOf(await ctx.services.clouds.zonesWith({ ...keysInput(dir.keys), ownerId: ownerId ?? undefined, environmentId: environmentId ?? undefined }));
  }

  @FieldResolver(() => [CloudRef], { description: 'Huayun regions.' })
  async regions(@Root() dir: CloudDirectory, @Ctx() ctx: GraphQLContext): Promise<CloudRef[]> {
    return refsOf(await ctx.services.clouds.regionsWith(keysInput(dir.keys)));
  }
}

/** The service names the fields of these look-ups as the legacy API does. */
const KEY_FIELD_NAMES = { CloudType: 'kind', CloudUser: 'accessKey', CloudPass: 'secretKey', CloudAddr: 'address' };
const keysInput = (keys: CloudKeysInput) => ({ name: keys.kind, type: keys.kind, user: keys.accessKey, password: keys.secretKey, address: keys.address });
const refsOf = (result: Result<{ id: string; name: string }[]>): CloudRef[] => lookup(result, KEY_FIELD_NAMES).map((r) => ({ refId: r.id, name: r.name }));
