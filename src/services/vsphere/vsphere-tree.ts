import type { EntityManager } from '@mikro-orm/postgresql';
import { VsphereCluster, VsphereDatacenter, VsphereFolder, VsphereHost, VspherePlatform, type HostNetInterface, type HostVolume } from '../../../entities/index.js';
import { groupBy } from '../../util/group-by.js';
import { vmRow, type VmRow } from './vsphere-reads.js';

export type TreeVolume = Pick<HostVolume, 'path' | 'type' | 'filesystem' | 'partitionTable' | 'capacity' | 'useType' | 'freeSpace' | 'freeSpaceNotEnough' | 'canNotBeMigrated' | 'canNotBeMigratedReason'>;
export type TreeNic = Pick<HostNetInterface, 'name' | 'mac' | 'ips'>;

/** A VM of the tree: its row (plain, not an entity: a tree holds thousands), transport, disks and NICs. */
export interface TreeVm {
  host: VmRow;
  /** its transport server's name and address (null when it has none) */
  transport: { name: string; mgntAddr: string } | null;
  volumes: TreeVolume[];
  nics: TreeNic[];
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
const byVmName = (a: TreeVm, b: TreeVm) => a.host.name.localeCompare(b.host.name);

/**
 * Every platform's whole tree in a fixed number of queries (one per level, whatever its size),
 * put together in memory: what ListVSHosts returns.
 */
export async function readTree(em: EntityManager): Promise<TreePlatform[]> {
  const platforms = await em.find(VspherePlatform, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
  if (!platforms.length) return [];
  const connection = em.getConnection();
  const parseDate = (v: unknown) => em.getPlatform().parseDate(v as string) as Date;
  // VMs, their disks and NICs are read as plain rows: thousands of ORM entities (identity map,
  // references, collections) cost far more than the queries
  const [datacenters, clusters, hosts, folders, vmRows] = await Promise.all([
    em.find(VsphereDatacenter, {}),
    em.find(VsphereCluster, {}),
    em.find(VsphereHost, {}),
    em.find(VsphereFolder, {}),
    connection.execute<Record<string, unknown>[]>(
      `select sh.*, t.name as tree_transport_name, t.mgnt_addr as tree_transport_mgnt_addr
       from source_hosts sh left join transport_servers t on t.id = sh.transport_id where sh.agent = false`,
    ),
  ]);
  const [volumeRows, nicRows, busy] = await Promise.all([
    connection.execute<Record<string, unknown>[]>(`select v.* from host_volumes v join source_hosts s on s.id = v.host_id where s.agent = false order by v.path asc`),
    connection.execute<Record<string, unknown>[]>(`select n.* from host_net_interfaces n join source_hosts s on s.id = n.host_id where s.agent = false order by n.mac asc`),
    connection.execute<{ source_host_id: string }[]>(`select distinct t.source_host_id from tasks t join source_hosts s on s.id = t.source_host_id where s.agent = false`),
  ]);
  const vms = vmRows.map((r) => vmRow(r, parseDate));
  const vmIds = vms.map((v) => v.id);
  const volumesOf = groupBy(vmIds, volumeRows, (v) => v.host_id as string);
  const nicsOf = groupBy(vmIds, nicRows, (n) => n.host_id as string);
  const transportOf = new Map(vmRows.map((r) => [r.id as string, r.tree_transport_name == null ? null : { name: r.tree_transport_name as string, mgntAddr: r.tree_transport_mgnt_addr as string }]));
  const inTask = new Set(busy.map((t) => t.source_host_id));
  // one TreeVm per VM, shown under its host and in its folder
  const treeVms = vms.map(
    (host): TreeVm => ({
      host,
      transport: transportOf.get(host.id) ?? null,
      volumes: (volumesOf.get(host.id) ?? []).map(volume),
      nics: (nicsOf.get(host.id) ?? []).map(nic),
      inTask: inTask.has(host.id),
    }),
  );
  const vmsOfHost = groupBy(hosts.map((h) => h.id), treeVms.filter((v) => v.host.esxiHost), (v) => v.host.esxiHost!.id);
  const vmsOfFolder = groupBy(folders.map((f) => f.id), treeVms.filter((v) => v.host.folder), (v) => v.host.folder!.id);
  const childFolders = groupBy(folders.map((f) => f.id), folders.filter((f) => f.parent), (f) => f.parent!.id);
  const treeHost = (h: VsphereHost): TreeHost => ({ host: h, vms: (vmsOfHost.get(h.id) ?? []).sort(byVmName) });
  const treeFolder = (f: VsphereFolder, depth = 0): TreeFolder => ({
    folder: f,
    folders: depth > 200 ? [] : (childFolders.get(f.id) ?? []).sort(byName).map((c) => treeFolder(c, depth + 1)),
    vms: (vmsOfFolder.get(f.id) ?? []).sort(byVmName),
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

/** A host_volumes row (raw) as the tree shows it: bigints stay strings, as the entity keeps them. */
const volume = (r: Record<string, unknown>): TreeVolume => ({
  path: r.path as string,
  type: r.type as string,
  filesystem: r.filesystem as string | undefined,
  partitionTable: r.partition_table as string | undefined,
  capacity: r.capacity as string,
  useType: r.use_type as TreeVolume['useType'],
  freeSpace: r.free_space as string | undefined,
  freeSpaceNotEnough: r.free_space_not_enough as boolean,
  canNotBeMigrated: r.can_not_be_migrated as boolean,
  canNotBeMigratedReason: r.can_not_be_migrated_reason as string | undefined,
});

const nic = (r: Record<string, unknown>): TreeNic => ({ name: r.name as string | undefined, mac: r.mac as string, ips: r.ips as string[] });
