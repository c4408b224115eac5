import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { SourceHost, Task, VsphereCluster, VsphereDatacenter, VsphereFolder, VsphereHost, VspherePlatform } from '../../../entities/index.js';
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
   */
  async vmPagesOf(parent: VmParent, parentIds: readonly string[], request: PageRequest): Promise<Result<Map<string, Page<SourceHost>>>> {
    const after = request.after === undefined ? undefined : decodeVmCursor(request.after);
    if (request.after !== undefined && !after) return fail('INVALID_INPUT', 'after is not a cursor of this list.', 'after');
    const column = PARENT_COLUMN[parent];
    const em = this.em();
    const rows = await em.getConnection().execute<Record<string, unknown>[]>(
      `select * from (
         select sh.*, row_number() over (partition by sh.${column} order by sh.name, sh.id) as page_row,
                count(*) over (partition by sh.${column}) as page_total
         from source_hosts sh
         where sh.agent = false and sh.${column} in (?) ${after ? 'and (sh.name, sh.id) > (?, ?)' : ''}
       ) numbered where page_row <= ? order by ${column}, page_row`,
      after ? [[...parentIds], after.name, after.id, request.first + 1] : [[...parentIds], request.first + 1],
    );
    // the total counts every VM of the parent, the ones before the cursor included
    const totals = after ? await this.vmCounts(em, column, parentIds) : undefined;
    const byParent = new Map<string, Page<SourceHost>>(parentIds.map((id) => [id, { items: [], hasNextPage: false, hasPreviousPage: after !== undefined, totalCount: totals?.get(id) ?? 0 }]));
    for (const row of rows) {
      const page = byParent.get(String(row[column]))!;
      if (!totals) page.totalCount = Number(row.page_total);
      if (Number(row.page_row) > request.first) {
        page.hasNextPage = true;
        continue;
      }
      const { page_row: _row, page_total: _total, ...columns } = row;
      const vm = em.map(SourceHost, columns);
      page.items.push({ cursor: encodeVmCursor(vm), node: vm });
    }
    return ok(byParent);
  }

  private async vmCounts(em: EntityManager, column: string, parentIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await em.getConnection().execute<{ parent: string; n: string }[]>(`select ${column} as parent, count(*) as n from source_hosts where agent = false and ${column} in (?) group by ${column}`, [[...parentIds]]);
    return new Map(rows.map((r) => [r.parent, Number(r.n)]));
  }

  /** Which of these VMs a task uses. */
  async vmsInTasks(vmIds: readonly string[]): Promise<Set<string>> {
    const rows = await this.em().find(Task, { sourceHost: { $in: [...vmIds] } }, { fields: ['sourceHost'] });
    return new Set(rows.map((t) => t.sourceHost.id));
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
