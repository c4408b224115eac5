import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../src/graphql/context.js';
import { fromGlobalId } from '../src/graphql/global-id.js';
import { userNode } from './auth.js';
import { Node } from './common.js';
import { cloudNode } from './clouds-types.js';
import { sourceHostNode } from './hosts-types.js';
import { licenseNode } from './license.js';
import { taskNode } from './tasks-types.js';
import { transportNode } from './transports-types.js';
import { VsphereCluster, VsphereDatacenter, VsphereFolder, VsphereHost } from '../entities/index.js';
import { clusterNode, datacenterNode, esxiHostNode, folderNode, platformNode, vmNode } from './vsphere-types.js';

/** How each type behind a global id is fetched; later capabilities add their types here. */
const fetchers: Record<string, (ctx: GraphQLContext, id: string) => Promise<Node | null>> = {
  User: async (ctx, id) => (ctx.auth?.userId === id ? userNode(ctx.auth) : null),
  License: async (ctx, id) => {
    const current = await ctx.services.license.current();
    return current.ok && current.value.id === id ? licenseNode(current.value) : null;
  },
  Cloud: async (ctx, id) => {
    const cloud = await ctx.services.clouds.get(id);
    return cloud.ok ? cloudNode(cloud.value) : null;
  },
  TransportServer: async (ctx, id) => {
    const transport = await ctx.services.transports.get(id);
    return transport.ok ? transportNode(transport.value) : null;
  },
  Task: async (ctx, id) => {
    const task = await ctx.services.tasks.get(id);
    return task.ok ? taskNode(task.value) : null;
  },
  SourceHost: async (ctx, id) => {
    const host = await ctx.services.hosts.get(id);
    return host.ok ? sourceHostNode(host.value.host) : null;
  },
  VspherePlatform: async (ctx, id) => {
    const platform = await ctx.services.vsphere.get(id);
    return platform.ok ? platformNode(platform.value) : null;
  },
  VsphereDatacenter: async (ctx, id) => mapped((await ctx.services.vsphereReads.byIds(VsphereDatacenter, [id])).get(id), datacenterNode),
  VsphereCluster: async (ctx, id) => mapped((await ctx.services.vsphereReads.byIds(VsphereCluster, [id])).get(id), clusterNode),
  VsphereHost: async (ctx, id) => mapped((await ctx.services.vsphereReads.byIds(VsphereHost, [id])).get(id), esxiHostNode),
  VmFolder: async (ctx, id) => mapped((await ctx.services.vsphereReads.byIds(VsphereFolder, [id])).get(id), folderNode),
  VirtualMachine: async (ctx, id) => mapped((await ctx.services.vsphereReads.vmsByIds([id])).get(id), vmNode),
};

const mapped = <R, N>(row: R | undefined, map: (row: R) => N): N | null => (row ? map(row) : null);

@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, description: 'Any object by its global id.' })
  async node(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Node | null> {
    const parsed = fromGlobalId(id);
    const fetch = parsed && fetchers[parsed.type];
    return fetch ? fetch(ctx, parsed.id) : null;
  }
}
