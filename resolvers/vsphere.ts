import { GraphQLError, Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../src/graphql/context.js';
import { fromGlobalId } from '../src/graphql/global-id.js';
import { vmPageKey } from '../src/graphql/loaders.js';
import type { VmPageIncludes, VmParent } from '../src/services/vsphere/vsphere-reads.js';
import type { SyncReport } from '../src/services/vsphere/inventory-sync.js';
import { payload } from './common.js';
import { Connection, ConnectionArgs, pageRequest, type ConnectionShape } from './connection.js';
import { Task, taskNode } from './tasks-types.js';
import { TransportServer, transportNode } from './transports-types.js';
import {
  clusterNode, datacenterNode, esxiHostNode, folderNode, platformNode, VirtualMachine, VmDisk, vmDiskNode, VmFolder, VmNic, vmNicNode, vmNode, VsphereCluster,
  VsphereDatacenter, VsphereHost, VspherePlatform, VspherePlatformAddInput, VspherePlatformDeletePayload, VspherePlatformIdInput, VspherePlatformPayload,
  VspherePlatformUpdateInput, type VsphereRefreshReport,
} from './vsphere-types.js';

const VirtualMachineConnection = Connection('VirtualMachine', VirtualMachine);
type VirtualMachineConnection = InstanceType<typeof VirtualMachineConnection>;

/** The service names fields as the legacy API does; GraphQL inputs as below. */
const FIELD_NAMES = { Name: 'name', Ip: 'address', UserName: 'userName', Passwd: 'password', TransId: 'transportServerId', CertThumbprint: 'certThumbprint', ID: 'vspherePlatformId', VSPlatformID: 'vspherePlatformId', TransAddr: 'transAddr' };

const plainId = (type: string, id: string) => {
  const parsed = fromGlobalId(id);
  return parsed?.type === type ? parsed.id : id;
};

const reportNode = (r: SyncReport): VsphereRefreshReport => ({ vms: r.vms, added: r.added, removed: r.removed, flagged: r.flagged, renamed: r.renamed.map((x) => x.to), moved: r.moved });

/** The fields selected at `path` below a field (fragments and inline fragments followed). */
function selectedFields(info: GraphQLResolveInfo, path: string[]): Set<string> {
  const names = new Set<string>();
  const walk = (set: SelectionSetNode | undefined, depth: number, seen: Set<string>): void => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.FIELD) {
        if (depth === path.length) names.add(sel.name.value);
        else if (sel.name.value === path[depth]) walk(sel.selectionSet, depth + 1, seen);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        walk(sel.selectionSet, depth, seen);
      } else if (!seen.has(sel.name.value)) {
        walk(info.fragments[sel.name.value]?.selectionSet, depth, new Set([...seen, sel.name.value]));
      }
    }
  };
  for (const node of info.fieldNodes) walk(node.selectionSet, 0, new Set());
  return names;
}

/**
 * A page of a host's or folder's VMs through the request's batch loader. When the query asks for
 * the VMs' disks or NICs, the page brings them in its own query, so a tree's VMs cost no loader
 * call (nor promise) per VM.
 */
async function vmPage(ctx: GraphQLContext, info: GraphQLResolveInfo, parent: VmParent, id: string, args: ConnectionArgs): Promise<VirtualMachineConnection> {
  const request = pageRequest(args);
  const wanted = selectedFields(info, ['edges', 'node']);
  const include: VmPageIncludes = { disks: wanted.has('disks'), nics: wanted.has('nics') };
  let page;
  try {
    page = await ctx.loaders.vmPage.load(vmPageKey(parent, id, request.first, request.after, include));
  } catch (err) {
    throw new GraphQLError((err as Error).message, { extensions: { code: 'BAD_USER_INPUT', argument: 'after' } });
  }
  const shape: ConnectionShape<VirtualMachine> = {
    edges: page.items.map((i) => ({ cursor: i.cursor, node: vmNode(i.node) })),
    pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: page.hasPreviousPage, startCursor: page.items[0]?.cursor, endCursor: page.items.at(-1)?.cursor },
    totalCount: page.totalCount,
  };
  return shape;
}

@Resolver(() => VspherePlatform)
export class VspherePlatformResolver {
  @Query(() => [VspherePlatform], { description: 'The vCenters and ESXi hosts Ferry reads, oldest first; each is the root of its inventory tree.' })
  async vspherePlatforms(@Ctx() ctx: GraphQLContext): Promise<VspherePlatform[]> {
    return (await ctx.services.vsphere.list()).map(platformNode);
  }

  @FieldResolver(() => [VsphereDatacenter], { description: 'Its datacenters, by name.' })
  async datacenters(@Root() p: VspherePlatform, @Ctx() ctx: GraphQLContext): Promise<VsphereDatacenter[]> {
    return (await ctx.loaders.vsphereDatacenters.load(p.vspherePlatformId)).map(datacenterNode);
  }

  @FieldResolver(() => Int, { description: 'How many VMs it has.' })
  async vmCount(@Root() p: VspherePlatform, @Ctx() ctx: GraphQLContext): Promise<number> {
    return ctx.loaders.vsphereVmCount.load(p.vspherePlatformId);
  }

  @FieldResolver(() => TransportServer, { nullable: true, description: "The transport server that reads its VMs' disks." })
  async transport(@Root() p: VspherePlatform, @Ctx() ctx: GraphQLContext): Promise<TransportServer | null> {
    if (!p.transportId) return null;
    const t = await ctx.loaders.transport.load(p.transportId);
    return t ? transportNode(t) : null;
  }

  @Mutation(() => VspherePlatformPayload, { description: 'Logs in to a vCenter or ESXi, reads its whole inventory and stores it; VMs sharing a BIOS UUID are listed in `sharedUuids`.' })
  async vspherePlatformAdd(@Arg('input', () => VspherePlatformAddInput) input: VspherePlatformAddInput, @Ctx() ctx: GraphQLContext): Promise<VspherePlatformPayload> {
    const result = await ctx.services.vsphere.add({ name: input.name, ip: input.address, userName: input.userName, passwd: input.password, transId: plainId('TransportServer', input.transportServerId), certThumbprint: input.certThumbprint ?? undefined });
    return payload(result, (v) => ({ vspherePlatform: platformNode(v.platform), report: reportNode(v.report), sharedUuids: v.sharedUuids }), FIELD_NAMES);
  }

  @Mutation(() => VspherePlatformPayload, { description: 'Reads the inventory again and applies what changed: renamed and moved VMs keep their identity and tasks.' })
  async vspherePlatformRefresh(@Arg('input', () => VspherePlatformIdInput) input: VspherePlatformIdInput, @Ctx() ctx: GraphQLContext): Promise<VspherePlatformPayload> {
    const result = await ctx.services.vsphere.refresh(plainId('VspherePlatform', input.vspherePlatformId));
    return payload(result, (v) => ({ vspherePlatform: platformNode(v.platform), report: reportNode(v.report), sharedUuids: v.sharedUuids }), FIELD_NAMES);
  }

  @Mutation(() => VspherePlatformPayload, { description: 'Changes its name, transport, credentials (tried before they are kept) or accepted certificate.' })
  async vspherePlatformUpdate(@Arg('input', () => VspherePlatformUpdateInput) input: VspherePlatformUpdateInput, @Ctx() ctx: GraphQLContext): Promise<VspherePlatformPayload> {
    const result = await ctx.services.vsphere.update(plainId('VspherePlatform', input.vspherePlatformId), {
      name: input.name ?? undefined,
      userName: input.userName ?? undefined,
      passwd: input.password ?? undefined,
      transId: input.transportServerId ? plainId('TransportServer', input.transportServerId) : undefined,
      certThumbprint: input.certThumbprint ?? undefined,
    });
    return payload(result, (p) => ({ vspherePlatform: platformNode(p) }), FIELD_NAMES);
  }

  @Mutation(() => VspherePlatformPayload, { description: 'Logs in with the stored credentials and certificate.' })
  async vspherePlatformVerify(@Arg('input', () => VspherePlatformIdInput) input: VspherePlatformIdInput, @Ctx() ctx: GraphQLContext): Promise<VspherePlatformPayload> {
    const result = await ctx.services.vsphere.verify(plainId('VspherePlatform', input.vspherePlatformId));
    return payload(result, (p) => ({ vspherePlatform: platformNode(p) }), FIELD_NAMES);
  }

  @Mutation(() => VspherePlatformDeletePayload, { description: 'Deletes the platform and its tree; refused while one of its VMs is in a task.' })
  async vspherePlatformDelete(@Arg('input', () => VspherePlatformIdInput) input: VspherePlatformIdInput, @Ctx() ctx: GraphQLContext): Promise<VspherePlatformDeletePayload> {
    const result = await ctx.services.vsphere.remove(plainId('VspherePlatform', input.vspherePlatformId));
    return payload(result, (v) => ({ deletedVspherePlatformId: v.id }), FIELD_NAMES);
  }
}

@Resolver(() => VsphereDatacenter)
export class VsphereDatacenterResolver {
  @FieldResolver(() => [VsphereCluster], { description: 'Its clusters, by name.' })
  async clusters(@Root() d: VsphereDatacenter, @Ctx() ctx: GraphQLContext): Promise<VsphereCluster[]> {
    return (await ctx.loaders.vsphereClusters.load(d.rowId)).map(clusterNode);
  }

  @FieldResolver(() => [VsphereHost], { description: 'Its standalone ESXi hosts (those in no cluster), by name.' })
  async hosts(@Root() d: VsphereDatacenter, @Ctx() ctx: GraphQLContext): Promise<VsphereHost[]> {
    return (await ctx.loaders.vsphereStandaloneHosts.load(d.rowId)).map(esxiHostNode);
  }

  @FieldResolver(() => [VmFolder], { description: 'Its top VM folders, by name (VMs at the top are under their hosts only).' })
  async vmFolders(@Root() d: VsphereDatacenter, @Ctx() ctx: GraphQLContext): Promise<VmFolder[]> {
    return (await ctx.loaders.vsphereTopFolders.load(d.rowId)).map(folderNode);
  }
}

@Resolver(() => VsphereCluster)
export class VsphereClusterResolver {
  @FieldResolver(() => [VsphereHost], { description: 'Its ESXi hosts, by name.' })
  async hosts(@Root() c: VsphereCluster, @Ctx() ctx: GraphQLContext): Promise<VsphereHost[]> {
    return (await ctx.loaders.vsphereClusterHosts.load(c.rowId)).map(esxiHostNode);
  }
}

@Resolver(() => VsphereHost)
export class VsphereHostResolver {
  @FieldResolver(() => VirtualMachineConnection, { description: 'The VMs it runs, by name.' })
  async vms(@Root() h: VsphereHost, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<VirtualMachineConnection> {
    return vmPage(ctx, info, 'host', h.rowId, args);
  }
}

@Resolver(() => VmFolder)
export class VmFolderResolver {
  @FieldResolver(() => [VmFolder], { description: 'Its sub-folders, by name.' })
  async folders(@Root() f: VmFolder, @Ctx() ctx: GraphQLContext): Promise<VmFolder[]> {
    return (await ctx.loaders.vsphereChildFolders.load(f.rowId)).map(folderNode);
  }

  @FieldResolver(() => VirtualMachineConnection, { description: 'The VMs in it, by name.' })
  async vms(@Root() f: VmFolder, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<VirtualMachineConnection> {
    return vmPage(ctx, info, 'folder', f.rowId, args);
  }
}

@Resolver(() => VirtualMachine)
export class VirtualMachineResolver {
  @FieldResolver(() => [VmDisk], { description: 'Its virtual disks; the first is the boot disk.' })
  disks(@Root() vm: VirtualMachine, @Ctx() ctx: GraphQLContext): VmDisk[] | Promise<VmDisk[]> {
    return vm.prefetchedDisks ?? ctx.loaders.hostVolumes.load(vm.sourceHostId).then((rows) => rows.map(vmDiskNode));
  }

  @FieldResolver(() => [VmNic], { description: 'Its network adapters.' })
  nics(@Root() vm: VirtualMachine, @Ctx() ctx: GraphQLContext): VmNic[] | Promise<VmNic[]> {
    return vm.prefetchedNics ?? ctx.loaders.hostNetInterfaces.load(vm.sourceHostId).then((rows) => rows.map(vmNicNode));
  }

  @FieldResolver(() => [Task], { description: 'Its migration tasks, oldest first.' })
  async tasks(@Root() vm: VirtualMachine, @Ctx() ctx: GraphQLContext): Promise<Task[]> {
    return (await ctx.loaders.hostTasks.load(vm.sourceHostId)).map(taskNode);
  }
}
