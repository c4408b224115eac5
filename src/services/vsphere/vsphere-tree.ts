import type { EntityManager } from '@mikro-orm/postgresql';
import { HostNetInterface, HostVolume, SourceHost, Task, VsphereCluster, VsphereDatacenter, VsphereFolder, VsphereHost, VspherePlatform } from '../../../entities/index.js';
import { groupBy } from '../../util/group-by.js';

export interface TreeVm {
  host: SourceHost;
  inTask: boolean;
}
export interface TreeFolder {
  folder: VsphereFolder;
  folders: TreeFolder[];
  vms: TreeVm[];
}
export interface TreeHost {
  host: VsphereHost;
  vms: TreeVm[];
}
export interface TreeDatacenter {
  datacenter: VsphereDatacenter;
  clusters: { cluster: VsphereCluster; hosts: TreeHost[] }[];
  /** standalone hosts */
  hosts: TreeHost[];
  folders: TreeFolder[];
}
export interface TreePlatform {
  platform: VspherePlatform;
  datacenters: TreeDatacenter[];
}

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/**
 * Every platform's whole tree in a fixed number of queries (one per level, whatever its size),
 * put together in memory: what ListVSHosts returns.
 */
export async function readTree(em: EntityManager): Promise<TreePlatform[]> {
  const platforms = await em.find(VspherePlatform, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
  if (!platforms.length) return [];
  const [datacenters, clusters, hosts, folders, vms] = await Promise.all([
    em.find(VsphereDatacenter, {}),
    em.find(VsphereCluster, {}),
    em.find(VsphereHost, {}),
    em.find(VsphereFolder, {}),
    em.find(SourceHost, { agent: false }, { populate: ['transport'] }),
  ]);
  const vmIds = vms.map((v) => v.id);
  const [volumes, nics, busy] = await Promise.all([
    em.find(HostVolume, { host: { agent: false } }, { orderBy: { path: 'asc' } }),
    em.find(HostNetInterface, { host: { agent: false } }, { orderBy: { mac: 'asc' } }),
    em.find(Task, { sourceHost: { agent: false } }, { fields: ['sourceHost'] }),
  ]);
  // the ORM's collections are filled from these rows, so views read them without more queries
  const volumesOf = groupBy(vmIds, volumes, (v) => v.host.id);
  const nicsOf = groupBy(vmIds, nics, (n) => n.host.id);
  for (const vm of vms) {
    vm.volumes.hydrate(volumesOf.get(vm.id) ?? []);
    vm.netInterfaces.hydrate(nicsOf.get(vm.id) ?? []);
  }
  const inTask = new Set(busy.map((t) => t.sourceHost.id));
  const treeVm = (host: SourceHost): TreeVm => ({ host, inTask: inTask.has(host.id) });
  const vmsOfHost = groupBy(hosts.map((h) => h.id), vms.filter((v) => v.esxiHost), (v) => v.esxiHost!.id);
  const vmsOfFolder = groupBy(folders.map((f) => f.id), vms.filter((v) => v.folder), (v) => v.folder!.id);
  const childFolders = groupBy(folders.map((f) => f.id), folders.filter((f) => f.parent), (f) => f.parent!.id);
  const treeHost = (h: VsphereHost): TreeHost => ({ host: h, vms: (vmsOfHost.get(h.id) ?? []).sort(byName).map(treeVm) });
  const treeFolder = (f: VsphereFolder, depth = 0): TreeFolder => ({
    folder: f,
    folders: depth > 200 ? [] : (childFolders.get(f.id) ?? []).sort(byName).map((c) => treeFolder(c, depth + 1)),
    vms: (vmsOfFolder.get(f.id) ?? []).sort(byName).map(treeVm),
  });
  const dcsOf = groupBy(platforms.map((p) => p.id), datacenters, (d) => d.platform.id);
  const dcIds = datacenters.map((d) => d.id);
  const clustersOf = groupBy(dcIds, clusters, (c) => c.datacenter.id);
  const hostsOfCluster = groupBy(clusters.map((c) => c.id), hosts.filter((h) => h.cluster), (h) => h.cluster!.id);
  const standaloneOf = groupBy(dcIds, hosts.filter((h) => !h.cluster), (h) => h.datacenter.id);
  const topFoldersOf = groupBy(dcIds, folders.filter((f) => !f.parent), (f) => f.datacenter.id);
  return platforms.map((platform) => ({
    platform,
    datacenters: (dcsOf.get(platform.id) ?? []).sort(byName).map((datacenter) => ({
      datacenter,
      clusters: (clustersOf.get(datacenter.id) ?? []).sort(byName).map((cluster) => ({ cluster, hosts: (hostsOfCluster.get(cluster.id) ?? []).sort(byName).map(treeHost) })),
      hosts: (standaloneOf.get(datacenter.id) ?? []).sort(byName).map(treeHost),
      folders: (topFoldersOf.get(datacenter.id) ?? []).sort(byName).map((f) => treeFolder(f)),
    })),
  }));
}
