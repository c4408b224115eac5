import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { SourceHost, VsphereCluster, VsphereDatacenter, VsphereFolder, VsphereHost, VspherePlatform, type HostNetInterface, type HostVolume } from '../../../entities/index.js';
import { groupBy } from '../../util/group-by.js';
import { UUID } from '../hosts/host-input.js';
import { fail, ok, type Result } from '../errors.js';
import type { Page, PageRequest } from '../paging.js';

/** Where VMs hang in the tree: under the ESXi host that runs them, or in a VM folder. */
export type VmParent = 'host' | 'folder';

const PARENT_COLUMN: Record<VmParent, string> = { host: 'esxi_host_id', folder: 'folder_id' };

/** A VM cursor: its name and id (VMs are listed by name). */
const encodeVmCursor = (vm: { name: string; id: string }) => Buffer.from(JSON.stringify([vm.name, vm.id])).toString('base64url');
function decodeVmCursor(cursor: string): { name: string; id: string } | undefined {
  try {
    const [name, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return typeof name === 'string' && typeof id === 'string' && UUID.test(id) ? { name, id } : undefined;
  } catch {
    return undefined;
  }
}

/** A PostgreSQL array literal of ids, bound as one parameter (`= any(?::uuid[])`); anything not a UUID is left out. */
const uuidArray = (ids: readonly string[]) => `{${ids.filter((id) => UUID.test(id)).join(',')}}`;

/** The parts of VMs a page may bring along with each VM. */
export interface VmPageIncludes {
  disks?: boolean;
  nics?: boolean;
}

/** A disk of a VM as a page brings it: the columns of host_volumes the views read (capacity: bytes, as text like the entity's bigint). */
export type VmDiskRow = Pick<HostVolume, 'path' | 'capacity' | 'useType' | 'backingFile' | 'controller'>;
/** A NIC of a VM as a page brings it. */
export type VmNicRow = Pick<HostNetInterface, 'name' | 'mac' | 'network' | 'ips'>;

/**
 * A VM as the tree views read it: the columns of source_hosts under the entity's property names,
 * references as `{ id }`, without the ORM's entity machinery (a tree holds thousands of VMs).
 */
export type VmRow = Pick<
  SourceHost,
  | 'id' | 'createdAt' | 'name' | 'agent' | 'mgntAddr' | 'offline' | 'osType' | 'osName' | 'cpu' | 'sockets' | 'memory' | 'manufacturer' | 'totalSize'
  | 'hostType' | 'canNotMigrate' | 'cnmReason' | 'vmMoref' | 'vmUuid' | 'vmInstanceUuid' | 'powerState' | 'missing' | 'refreshedAt'
> & {
  transport: { id: string } | null;
  platform: { id: string } | null;
  esxiHost: { id: string } | null;
  folder: { id: string } | null;
  /** when the page was asked for them (VmPageIncludes.disks) */
  disks?: VmDiskRow[];
  /** when the page was asked for them (VmPageIncludes.nics) */
  nics?: VmNicRow[];
};

const ref = (id: unknown) => (id == null ? null : { id: String(id) });

/** A raw source_hosts row (as the pg driver returns it under MikroORM's type parsers) as a VmRow; dates parsed as the ORM parses them. */
export function vmRow(r: Record<string, unknown>, parseDate: (value: unknown) => Date): VmRow {
  return {
    id: r.id as string,
    createdAt: parseDate(r.created_at),
    name: r.name as string,
    agent: r.agent as boolean,
    transport: ref(r.transport_id),
    mgntAddr: r.mgnt_addr as string | undefined,
    offline: r.offline as boolean,
    osType: r.os_type as string | undefined,
    osName: r.os_name as string | undefined,
    cpu: r.cpu as number | undefined,
    sockets: r.sockets as number | undefined,
    memory: r.memory as string | undefined,
    manufacturer: r.manufacturer as string | undefined,
    totalSize: r.total_size as string | undefined,
    hostType: r.host_type as string | undefined,
    canNotMigrate: r.can_not_migrate as boolean,
    cnmReason: r.cnm_reason as string | undefined,
    platform: ref(r.platform_id),
    esxiHost: ref(r.esxi_host_id),
    folder: ref(r.folder_id),
    vmMoref: r.vm_moref as string | undefined,
    vmUuid: r.vm_uuid as string | undefined,
    vmInstanceUuid: r.vm_instance_uuid as string | undefined,
    powerState: r.power_state as string | undefined,
    missing: r.missing as boolean,
    refreshedAt: r.refreshed_at == null ? undefined : parseDate(r.refreshed_at),
  };
}

/**
 * Batch reads of the stored vSphere trees, for GraphQL's loaders: each takes the ids of many
 * parents and costs one query, so a tree costs a number of queries bounded by its depth.
 */
export class VSphereReads {
  constructor(private readonly orm: MikroORM) {}

  private em(): EntityManager {
    return this.orm.em.fork();
  }

  async datacentersOf(platformIds: readonly string[]): Promise<Map<string, VsphereDatacenter[]>> {
    const rows = await this.em().find(VsphereDatacenter, { platform: { $in: [...platformIds] } }, { orderBy: { name: 'asc', id: 'asc' } });
    return groupBy(platformIds, rows, (r) => r.platform.id);
  }

  async clustersOf(datacenterIds: readonly string[]): Promise<Map<string, VsphereCluster[]>> {
    const rows = await this.em().find(VsphereCluster, { datacenter: { $in: [...datacenterIds] } }, { orderBy: { name: 'asc', id: 'asc' } });
    return groupBy(datacenterIds, rows, (r) => r.datacenter.id);
  }

  /** The hosts of clusters, by cluster id. */
  async hostsOfClusters(clusterIds: readonly string[]): Promise<Map<string, VsphereHost[]>> {
    const rows = await this.em().find(VsphereHost, { cluster: { $in: [...clusterIds] } }, { orderBy: { name: 'asc', id: 'asc' } });
    return groupBy(clusterIds, rows, (r) => r.cluster!.id);
  }

  /** The standalone hosts of datacenters, by datacenter id. */
  async standaloneHostsOf(datacenterIds: readonly string[]): Promise<Map<string, VsphereHost[]>> {
    const rows = await this.em().find(VsphereHost, { datacenter: { $in: [...datacenterIds] }, cluster: null }, { orderBy: { name: 'asc', id: 'asc' } });
    return groupBy(datacenterIds, rows, (r) => r.datacenter.id);
  }

  /** The top VM folders of datacenters, by datacenter id. */
  async topFoldersOf(datacenterIds: readonly string[]): Promise<Map<string, VsphereFolder[]>> {
    const rows = await this.em().find(VsphereFolder, { datacenter: { $in: [...datacenterIds] }, parent: null }, { orderBy: { name: 'asc', id: 'asc' } });
    return groupBy(datacenterIds, rows, (r) => r.datacenter.id);
  }

  async childFoldersOf(folderIds: readonly string[]): Promise<Map<string, VsphereFolder[]>> {
    const rows = await this.em().find(VsphereFolder, { parent: { $in: [...folderIds] } }, { orderBy: { name: 'asc', id: 'asc' } });
    return groupBy(folderIds, rows, (r) => r.parent!.id);
  }

  /** How many VMs each platform has. */
  async vmCountsOf(platformIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.em().getConnection().execute<{ platform_id: string; n: string }[]>(
      `select platform_id, count(*) as n from source_hosts where agent = false and platform_id in (?) group by platform_id`,
      [[...platformIds]],
    );
    return new Map(platformIds.map((id) => [id, Number(rows.find((r) => r.platform_id === id)?.n ?? 0)]));
  }

  /**
   * A page of VMs of each parent (by name, then id), all parents in one query: a window numbers
   * each parent's VMs and counts them. Parents asked with one `first`/`after` share the query.
   * VMs are plain rows (no ORM entities: a tree holds thousands); with `include` each brings its
   * disks (by path, then id) and NICs (by name, MAC, id) from the same query.
   */
  async vmPagesOf(parent: VmParent, parentIds: readonly string[], request: PageRequest, include: VmPageIncludes = {}): Promise<Result<Map<string, Page<VmRow>>>> {
    const after = request.after === undefined ? undefined : decodeVmCursor(request.after);
    if (request.after !== undefined && !after) return fail('INVALID_INPUT', 'after is not a cursor of this list.', 'after');
    const column = PARENT_COLUMN[parent];
    const em = this.em();
    const extra = [
      include.disks ? `, (select coalesce(json_agg(json_build_object('path', v.path, 'capacity', v.capacity::text, 'useType', v.use_type, 'backingFile', v.backing_file, 'controller', v.controller) order by v.path, v.id), '[]') from host_volumes v where v.host_id = numbered.id) as page_disks` : '',
      include.nics ? `, (select coalesce(json_agg(json_build_object('name', n.name, 'mac', n.mac, 'network', n.network, 'ips', n.ips) order by n.name, n.mac, n.id), '[]') from host_net_interfaces n where n.host_id = numbered.id) as page_nics` : '',
    ].join('');
    const rows = await em.getConnection().execute<Record<string, unknown>[]>(
      `select numbered.*${extra} from (
         select sh.*, row_number() over (partition by sh.${column} order by sh.name, sh.id) as page_row,
                count(*) over (partition by sh.${column}) as page_total
         from source_hosts sh
         where sh.agent = false and sh.${column} = any(?::uuid[]) ${after ? 'and (sh.name, sh.id) > (?, ?)' : ''}
       ) numbered where page_row <= ? order by ${column}, page_row`,
      after ? [uuidArray(parentIds), after.name, after.id, request.first + 1] : [uuidArray(parentIds), request.first + 1],
    );
    // the total counts every VM of the parent, the ones before the cursor included
    const totals = after ? await this.vmCounts(em, column, parentIds) : undefined;
    const byParent = new Map<string, Page<VmRow>>(parentIds.map((id) => [id, { items: [], hasNextPage: false, hasPreviousPage: after !== undefined, totalCount: totals?.get(id) ?? 0 }]));
    const parseDate = (v: unknown) => em.getPlatform().parseDate(v as string) as Date;
    for (const row of rows) {
      const page = byParent.get(String(row[column]))!;
      if (!totals) page.totalCount = Number(row.page_total);
      if (Number(row.page_row) > request.first) {
        page.hasNextPage = true;
        continue;
      }
      const vm = vmRow(row, parseDate);
      if (include.disks) vm.disks = row.page_disks as VmDiskRow[];
      if (include.nics) vm.nics = row.page_nics as VmNicRow[];
      page.items.push({ cursor: encodeVmCursor(vm), node: vm });
    }
    return ok(byParent);
  }

  private async vmCounts(em: EntityManager, column: string, parentIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await em.getConnection().execute<{ parent: string; n: string }[]>(`select ${column} as parent, count(*) as n from source_hosts where agent = false and ${column} = any(?::uuid[]) group by ${column}`, [uuidArray(parentIds)]);
    return new Map(rows.map((r) => [r.parent, Number(r.n)]));
  }

  async byIds<E extends VspherePlatform | VsphereDatacenter | VsphereCluster | VsphereHost | VsphereFolder>(entity: new () => E, ids: readonly string[]): Promise<Map<string, E>> {
    const wanted = ids.filter((id) => UUID.test(id));
    const rows = wanted.length ? ((await this.em().find(entity as never, { id: { $in: wanted } } as never)) as E[]) : [];
    return new Map(rows.map((r) => [r.id, r]));
  }

  async vmsByIds(ids: readonly string[]): Promise<Map<string, SourceHost>> {
    const wanted = ids.filter((id) => UUID.test(id));
    const rows = wanted.length ? await this.em().find(SourceHost, { id: { $in: wanted }, agent: false }) : [];
    return new Map(rows.map((r) => [r.id, r]));
  }
}
