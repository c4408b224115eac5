import type { EntityManager } from '@mikro-orm/postgresql';
import { HostNetInterface, HostVolume, SourceHost, Task, VolumeUseType, VsphereCluster, VsphereDatacenter, VsphereFolder, VsphereHost, type VspherePlatform } from '../../../entities/index.js';
import type { Inventory, InventoryFolder, InventoryVm } from '../../drivers/vsphere/inventory.js';

const MiB = 1024 * 1024;

/** What a refresh changed, for its answer and the log. */
export interface SyncReport {
  vms: number;
  added: string[];
  removed: string[];
  /** VMs gone from vSphere while a task uses them: kept, flagged missing */
  flagged: string[];
  renamed: { from: string; to: string }[];
  moved: string[];
}

/** A VM's identity within its platform: instanceUuid (unique per vCenter), the moref when a VM has none. */
export const vmKey = (vm: { instanceUuid: string; moref: string }) => vm.instanceUuid || `moref:${vm.moref}`;
const keyOfHost = (h: SourceHost) => h.vmInstanceUuid || `moref:${h.vmMoref}`;

/**
 * Makes the stored tree of a platform what vSphere says it is, in the caller's transaction:
 * datacenters, clusters, hosts and folders by moref; VMs (source hosts without agent) by
 * instanceUuid, so that a VM renamed or moved keeps its row, and so its tasks. A VM gone from
 * vSphere is deleted, unless a task uses it: then it stays, flagged `missing`.
 */
export async function syncInventory(em: EntityManager, platform: VspherePlatform, inv: Inventory): Promise<SyncReport> {
  const datacenters = await upsertByMoref(em, VsphereDatacenter, platform, inv.datacenters, (row, d) => Object.assign(row, { name: d.name }));
  const clusters = await upsertByMoref(em, VsphereCluster, platform, inv.clusters, (row, c) => Object.assign(row, { name: c.name, datacenter: datacenters.get(c.datacenter)! }));
  const hosts = await upsertByMoref(em, VsphereHost, platform, inv.hosts, (row, h) => Object.assign(row, { name: h.name, datacenter: datacenters.get(h.datacenter)!, cluster: h.cluster ? clusters.get(h.cluster)! : null }));
  const folders = await upsertByMoref(em, VsphereFolder, platform, parentsFirst(inv.folders), (row, f, all) => Object.assign(row, { name: f.name, datacenter: datacenters.get(f.datacenter)!, parent: f.parent ? all.get(f.parent)! : null }));

  const report: SyncReport = { vms: 0, added: [], removed: [], flagged: [], renamed: [], moved: [] };
  const stored = new Map<string, SourceHost>((await em.find(SourceHost, { platform, agent: false }, { populate: ['volumes', 'netInterfaces'] })).map((h) => [keyOfHost(h), h]));
  for (const vm of inv.vms) {
    if (vm.template || !datacenters.has(vm.datacenter)) continue;
    report.vms += 1;
    const key = vmKey(vm);
    let row: SourceHost | undefined = stored.get(key);
    stored.delete(key);
    if (!row) {
      row = em.create(SourceHost, { name: vm.name, agent: false, platform, transport: platform.transport ?? null });
      report.added.push(vm.name);
    } else {
      if (row.name !== vm.name) report.renamed.push({ from: row.name, to: vm.name });
      if (row.folder?.id !== (vm.folder ? folders.get(vm.folder)?.id : undefined) || row.esxiHost?.id !== (vm.host ? hosts.get(vm.host)?.id : undefined)) report.moved.push(vm.name);
    }
    applyVm(em, row, vm, hosts, folders);
  }
  const gone = [...stored.values()];
  const used = new Set(gone.length ? (await em.find(Task, { sourceHost: { $in: gone.map((h) => h.id) } }, { fields: ['sourceHost'] })).map((t) => t.sourceHost.id) : []);
  for (const host of gone) {
    if (used.has(host.id)) {
      if (!host.missing) report.flagged.push(host.name);
      host.missing = true;
    } else {
      report.removed.push(host.name);
      em.remove(host);
    }
  }
  platform.refreshedAt = new Date();
  await em.flush();
  return report;
}

function applyVm(em: EntityManager, row: SourceHost, vm: InventoryVm, hosts: Map<string, VsphereHost>, folders: Map<string, VsphereFolder>): void {
  const totalBytes = vm.disks.reduce((sum, d) => sum + d.capacityBytes, 0);
  Object.assign(row, {
    name: vm.name,
    esxiHost: vm.host ? hosts.get(vm.host) ?? null : null,
    folder: vm.folder ? folders.get(vm.folder) ?? null : null,
    vmMoref: vm.moref,
    vmUuid: vm.uuid || null,
    vmInstanceUuid: vm.instanceUuid || null,
    powerState: vm.powerState || null,
    osName: vm.guestFullName || null,
    osType: osTypeOf(vm.guestId),
    cpu: vm.cpus,
    sockets: vm.coresPerSocket > 0 ? Math.max(1, Math.round(vm.cpus / vm.coresPerSocket)) : vm.cpus,
    memory: String(vm.memoryMB * MiB),
    totalSize: String(totalBytes),
    hostType: 'vmware',
    mgntAddr: vm.ipAddress || null,
    missing: false,
    refreshedAt: new Date(),
  });
  row.volumes.removeAll();
  vm.disks.forEach((d, i) =>
    row.volumes.add(em.create(HostVolume, { host: row, path: d.fileName || d.label, type: 'disk', capacity: String(d.capacityBytes), useType: i === 0 ? VolumeUseType.Boot : VolumeUseType.Data, backingFile: d.fileName || null, controller: d.controller || null })),
  );
  row.netInterfaces.removeAll();
  for (const n of vm.nics) row.netInterfaces.add(em.create(HostNetInterface, { host: row, name: n.label || null, mac: n.mac, ips: n.ips, network: n.network || null }));
}

const osTypeOf = (guestId: string): string | null => (!guestId ? null : /^win/i.test(guestId) ? 'windows' : /other/i.test(guestId) ? 'other' : 'linux');

type TreeEntity = VsphereDatacenter | VsphereCluster | VsphereHost | VsphereFolder;

/** Rows of one level keyed by moref: updated, created, or deleted when vSphere no longer has them. */
async function upsertByMoref<E extends TreeEntity, I extends { moref: string }>(
  em: EntityManager,
  entity: new () => E,
  platform: VspherePlatform,
  items: I[],
  apply: (row: E, item: I, all: Map<string, E>) => void,
): Promise<Map<string, E>> {
  const found = (await em.find(entity as never, { platform } as never)) as E[];
  const existing = new Map(found.map((r) => [r.moref, r]));
  const rows = new Map<string, E>();
  for (const item of items) {
    const row = existing.get(item.moref) ?? (em.create(entity as never, { platform, moref: item.moref, name: '' } as never) as E);
    existing.delete(item.moref);
    rows.set(item.moref, row);
  }
  for (const item of items) apply(rows.get(item.moref)!, item, rows);
  for (const gone of existing.values()) em.remove(gone);
  return rows;
}

/** Folders ordered so that a parent comes before its children (inserted in that order). */
function parentsFirst(folders: InventoryFolder[]): InventoryFolder[] {
  const byRef = new Map(folders.map((f) => [f.moref, f]));
  const depth = (f: InventoryFolder): number => {
    let d = 0;
    for (let p = f.parent; p && d < 1000; p = byRef.get(p)?.parent ?? null) d++;
    return d;
  };
  return [...folders].sort((a, b) => depth(a) - depth(b));
}
