import DataLoader from 'dataloader';
import type { HostNetInterface, HostVolume, SourceHost, Task, TaskVolume, VsphereCluster, VsphereDatacenter, VsphereFolder, VsphereHost } from '../../entities/index.js';
import type { Page } from '../services/paging.js';
import type { VmPageIncludes, VmParent, VmRow } from '../services/vsphere/vsphere-reads.js';
import type { Services } from '../services/index.js';
import type { CloudView } from '../services/clouds/cloud-service.js';
import type { TransportView } from '../services/transports/transport-service.js';

/**
 * Batch loaders of one GraphQL request (an HTTP request, or one operation on a WebSocket):
 * the fields of a page of N objects cost one query per field, not N. Built anew for every
 * request, so nothing is cached across requests or users.
 */
export interface Loaders {
  /** transport server by id (stored, as last seen); null when there is none */
  transport: DataLoader<string, TransportView | null>;
  /** cloud connection by id; null when there is none */
  cloud: DataLoader<string, CloudView | null>;
  /** a host's volumes, by host id */
  hostVolumes: DataLoader<string, HostVolume[]>;
  /** a host's NICs, by host id */
  hostNetInterfaces: DataLoader<string, HostNetInterface[]>;
  /** the agent hosts of a transport server, by transport id */
  transportHosts: DataLoader<string, SourceHost[]>;
  /** source host by id */
  sourceHost: DataLoader<string, SourceHost | null>;
  /** a task's volumes, in source order, by task id */
  taskVolumes: DataLoader<string, TaskVolume[]>;
  /** a source host's tasks, by host id */
  hostTasks: DataLoader<string, Task[]>;
  /** vSphere trees, one query per level whatever its size */
  vsphereDatacenters: DataLoader<string, VsphereDatacenter[]>;
  vsphereClusters: DataLoader<string, VsphereCluster[]>;
  vsphereClusterHosts: DataLoader<string, VsphereHost[]>;
  vsphereStandaloneHosts: DataLoader<string, VsphereHost[]>;
  vsphereTopFolders: DataLoader<string, VsphereFolder[]>;
  vsphereChildFolders: DataLoader<string, VsphereFolder[]>;
  vsphereVmCount: DataLoader<string, number>;
  /** a page of the VMs of a host or folder: see vmPageKey */
  vmPage: DataLoader<string, Page<VmRow>>;
}

/** The key of a page of VMs: parents asked with the same page (and the same VM parts) share one query. */
export const vmPageKey = (parent: VmParent, id: string, first: number, after?: string, include: VmPageIncludes = {}) =>
  JSON.stringify([parent, first, after ?? null, Boolean(include.disks), Boolean(include.nics), id]);

/**
 * A batch waits for the end of the current turn of the event loop, not just its microtasks:
 * resolvers of one level of a tree reach a loader at different promise depths, and must share
 * its one query, or the number of queries would grow with the tree's width.
 */
const options = { batchScheduleFn: (run: () => void) => setImmediate(run) };

export function createLoaders(services: Services): Loaders {
  const grouped = <T>(load: (ids: readonly string[]) => Promise<Map<string, T[]>>) =>
    new DataLoader<string, T[]>(async (ids) => {
      const groups = await load(ids);
      return ids.map((id) => groups.get(id) ?? []);
    }, options);
  const single = <T>(load: (ids: readonly string[]) => Promise<Map<string, T>>) =>
    new DataLoader<string, T | null>(async (ids) => {
      const byId = await load(ids);
      return ids.map((id) => byId.get(id) ?? null);
    }, options);
  return {
    transport: single((ids) => services.transports.byIds(ids)),
    cloud: single((ids) => services.clouds.byIds(ids)),
    hostVolumes: grouped((ids) => services.hosts.volumesOfHosts(ids)),
    hostNetInterfaces: grouped((ids) => services.hosts.netInterfacesOfHosts(ids)),
    transportHosts: grouped((ids) => services.hosts.hostsOfTransports(ids)),
    sourceHost: single((ids) => services.hosts.byIds(ids)),
    taskVolumes: grouped((ids) => services.tasks.volumesOfTasks(ids)),
    hostTasks: grouped((ids) => services.tasks.tasksOfHosts(ids)),
    vsphereDatacenters: grouped((ids) => services.vsphereReads.datacentersOf(ids)),
    vsphereClusters: grouped((ids) => services.vsphereReads.clustersOf(ids)),
    vsphereClusterHosts: grouped((ids) => services.vsphereReads.hostsOfClusters(ids)),
    vsphereStandaloneHosts: grouped((ids) => services.vsphereReads.standaloneHostsOf(ids)),
    vsphereTopFolders: grouped((ids) => services.vsphereReads.topFoldersOf(ids)),
    vsphereChildFolders: grouped((ids) => services.vsphereReads.childFoldersOf(ids)),
    vsphereVmCount: new DataLoader<string, number>(async (ids) => {
      const counts = await services.vsphereReads.vmCountsOf(ids);
      return ids.map((id) => counts.get(id) ?? 0);
    }, options),
    vmPage: new DataLoader<string, Page<VmRow>>(async (keys) => {
      const groups = new Map<string, { parent: VmParent; first: number; after?: string; include: VmPageIncludes; ids: string[] }>();
      for (const key of keys) {
        const [parent, first, after, disks, nics, id] = JSON.parse(key) as [VmParent, number, string | null, boolean, boolean, string];
        const group = JSON.stringify([parent, first, after, disks, nics]);
        if (!groups.has(group)) groups.set(group, { parent, first, after: after ?? undefined, include: { disks, nics }, ids: [] });
        groups.get(group)!.ids.push(id);
      }
      const pages = new Map<string, Page<VmRow> | Error>();
      for (const g of groups.values()) {
        const result = await services.vsphereReads.vmPagesOf(g.parent, g.ids, { first: g.first, after: g.after }, g.include);
        for (const id of g.ids) pages.set(vmPageKey(g.parent, id, g.first, g.after, g.include), result.ok ? result.value.get(id)! : new Error(result.error.message));
      }
      return keys.map((key) => pages.get(key)!);
    }, options),
  };
}
