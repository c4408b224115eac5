/**
 * vSphere tree benchmark (`npm run bench:tree`; not a test).
 *
 * Starts a real `ferry serve` on a fresh database and gives it a platform of 5,000 VMs: by default
 * a real vcsim (10 datacenters, each in a folder, × 2 clusters of 5 hosts + 3 standalone hosts,
 * 100 VMs per standalone host and per cluster, a chain of VM folders 5 deep holding 100 VMs each)
 * added through AddVSPlatform with a real `ferry transport` (AddTransportServer) as its transport,
 * so Ferry reads and stores it itself; with BENCH_DATA=seed the same
 * shape is written straight into the tables, each VM with 1–3 disks and 1–2 NICs (vcsim's VMs have
 * one of each). vcsim and the transport are stopped before anything is measured.
 *
 * Then, round after round, in a rotating order, it times three ways of getting the whole tree:
 * - GraphQL: one POST /graphql of the tree query below (platform → datacenters → clusters → hosts
 *   → VMs with disks and NICs, standalone hosts, VM folders 5 levels deep with their VMs; every VM
 *   connection `first: 100`, and the data has at most 100 VMs per host and per folder, so no page
 *   is left to follow: the benchmark checks it);
 * - REST: one ListVSHosts;
 * - the floor: one hand-written SQL statement that builds ListVSHosts' Data in PostgreSQL
 *   (json_agg/json_build_object), sent by a pg client of this process (no HTTP).
 * Each is timed from sending the request to holding the whole JSON text (not parsed). Before the
 * rounds the floor's JSON is checked equal to ListVSHosts' Data (arrays compared as sets), and the
 * GraphQL answer to hold the same VMs with their disks and NICs.
 *
 * SQL statements per request are counted inside `ferry serve`: bench/sql-counter.mjs, preloaded
 * with --import, logs every statement sent through pg's Client#query with the request it was sent
 * for (the x-bench-request header, followed through the request's async work); statements of no
 * request (the task engine's poll every second) are counted apart.
 *
 * The last line printed is one JSON object. See docs/benchmarks.md.
 *
 * DATABASE_URL        a PostgreSQL where the benchmark may create and drop a database
 *                     (default postgresql://root@127.0.0.1:5432/postgres)
 * BENCH_DATA          vcsim (default) or seed
 * BENCH_ROUNDS        measured rounds (default 30), after BENCH_WARMUP (default 3) unmeasured ones;
 *                     the rounds stop early after BENCH_MEASURE_SECONDS (default 150)
 * BENCH_KEEP_DB=1    keep the database at the end (its name is printed), e.g. to study the queries
 * BENCH_FERRY_NODE_ARGS  extra node options for `ferry serve`, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { spawnFerry, type FerryProcess } from '../test/support/transport-fixture.js';
import { vcsimArgs, vcsimBinary, type VcsimCounts } from '../test/support/vcsim.js';

const DATA = process.env.BENCH_DATA ?? 'vcsim';
if (DATA !== 'vcsim' && DATA !== 'seed') throw new Error(`BENCH_DATA must be vcsim or seed, not ${DATA}`);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const MEASURE_SECONDS = Number(process.env.BENCH_MEASURE_SECONDS ?? 150);
/** the whole run, set-up included, is cut off after this */
const DEADLINE_SECONDS = 285;
const KEEP_DB = process.env.BENCH_KEEP_DB === '1';
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/postgres';
const PASSWORD = 'Bench-pass-1';

/** the shape of the inventory, vcsim's flags */
const SHAPE = { datacenters: 10, clusters: 2, clusterHosts: 5, hosts: 3, vms: 100, folderDepth: 4 };
/** VM folder levels the GraphQL query and the floor descend (the datacenter's folder + 4 nested) */
const FOLDER_LEVELS = 5;
const PAGE = 100;

const log = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const ms = (v: number) => Math.round(v * 10) / 10;

// ---------------------------------------------------------------- the GraphQL query

const VM_FIELDS = 'id sourceHostId name moref uuid instanceUuid guestOs osType cpus sockets memory totalSize powerState ipAddress missing refreshedAt disks { fileName size controller boot } nics { label mac network ips }';
const nestFolders = (levels: number): string => `id name moref vms(first: ${PAGE}) { ...VmPage }${levels > 1 ? ` folders { ${nestFolders(levels - 1)} }` : ''}`;
const TREE_QUERY = `
fragment Vm on VirtualMachine { ${VM_FIELDS} }
fragment VmPage on VirtualMachineConnection { totalCount pageInfo { hasNextPage endCursor } edges { node { ...Vm } } }
query BenchTree {
  vspherePlatforms {
    id vspherePlatformId name address isVcenter vmCount certThumbprint createdAt
    datacenters {
      id name moref
      clusters { id name moref hosts { id name moref vms(first: ${PAGE}) { ...VmPage } } }
      hosts { id name moref vms(first: ${PAGE}) { ...VmPage } }
      vmFolders { ${nestFolders(FOLDER_LEVELS)} }
    }
  }
}`;

// ---------------------------------------------------------------- the floor

/**
 * The VM folders of one level as ListVSHosts' VmGroups, grouped under their parent (level 1: their
 * datacenter), each with the groups of the level below (`g<level+1>`) and its VMs.
 */
function folderLevelSql(level: number, levels: number): string {
  const below = level < levels ? `coalesce(g${level + 1}.j, '[]'::json)` : `'[]'::json`;
  return `g${level} as (
  select ${level === 1 ? 'f.datacenter_id' : 'f.parent_id'} as id,
         json_agg(json_build_object('ID', f.id, 'Name', f.name, 'VmGroups', ${below}, 'VTs', coalesce(fv.j, '[]'::json)) order by f.name, f.id) as j
  from folder_level fl join vsphere_folders f on f.id = fl.id
  left join folder_vms fv on fv.id = f.id${level < levels ? `\n  left join g${level + 1} on g${level + 1}.id = f.id` : ''}
  where fl.level = ${level}
  group by 1
)`;
}

/**
 * One statement that builds ListVSHosts' Data: every platform → datacenters → standalone hosts,
 * clusters → hosts, each host with its VMs (ListHosts' detail: disks, NICs, transport, InTask), and
 * the VM folder tree with its VMs, `FOLDER_LEVELS` deep. Built bottom-up: each level is aggregated
 * once, grouped by its parent, and joined to the level above (no correlated subquery rescans
 * anything). Times as the legacy API shows them, in UTC (`ferry serve` runs with TZ=UTC here).
 */
const FLOOR_SQL = `
with recursive vol as (
  select v.host_id, json_agg(json_build_object('Path', v.path, 'Type', v.type, 'Filesystem', coalesce(v.filesystem, ''), 'PartitionTable', coalesce(v.partition_table, ''),
      'Capacity', v.capacity, 'UseType', coalesce(v.use_type, ''), 'FreeSpace', v.free_space, 'FreeSpaceNotEnough', v.free_space_not_enough,
      'CanNotBeMigrated', v.can_not_be_migrated, 'CanNotBeMigratedReason', coalesce(v.can_not_be_migrated_reason, '')) order by v.path) as j
  from host_volumes v join source_hosts h on h.id = v.host_id and not h.agent
  group by v.host_id
), nic as (
  select n.host_id, json_agg(json_build_object('Name', coalesce(n.name, ''), 'Mac', n.mac,
      'SubNets', (select coalesce(json_agg(json_build_object('Ip', a.ip) order by a.o), '[]'::json) from jsonb_array_elements_text(n.ips) with ordinality a(ip, o))) order by n.mac) as j
  from host_net_interfaces n join source_hosts h on h.id = n.host_id and not h.agent
  group by n.host_id
), busy as (
  select distinct source_host_id as id from tasks
), vm as materialized (
  select h.id, h.name, h.esxi_host_id, h.folder_id, json_build_object(
      'Id', h.id, 'Name', h.name, 'MgntAddr', h.mgnt_addr, 'TransName', t.name, 'TransId', h.transport_id, 'TransAddr', t.mgnt_addr,
      'OsType', coalesce(h.os_type, ''), 'OsName', coalesce(h.os_name, ''), 'CPU', h.cpu, 'Sockets', h.sockets, 'Memory', h.memory,
      'Manufacturer', coalesce(h.manufacturer, ''), 'TotalSize', h.total_size, 'HostType', coalesce(h.host_type, ''),
      'CreatedTime', to_char(h.created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS'), 'Agent', h.agent, 'Offline', h.offline,
      'InTask', b.id is not null, 'CanNotMigrate', h.can_not_migrate, 'CNMReason', coalesce(h.cnm_reason, ''),
      'VolumeInfos', coalesce(vol.j, '[]'::json), 'VMHostUuid', coalesce(h.vm_uuid, ''), 'NetInterfaces', coalesce(nic.j, '[]'::json)) as j
  from source_hosts h
  left join transport_servers t on t.id = h.transport_id
  left join busy b on b.id = h.id
  left join vol on vol.host_id = h.id
  left join nic on nic.host_id = h.id
  where not h.agent
), host_vms as (
  select esxi_host_id as id, json_agg(j order by name, id) as j from vm where esxi_host_id is not null group by 1
), folder_vms as (
  select folder_id as id, json_agg(j order by name, id) as j from vm where folder_id is not null group by 1
), phy as materialized (
  select h.id, h.name, h.datacenter_id, h.cluster_id, json_build_object('ID', h.id, 'Name', h.name, 'VTs', coalesce(hv.j, '[]'::json)) as j
  from vsphere_hosts h left join host_vms hv on hv.id = h.id
), standalone as (
  select datacenter_id as id, json_agg(j order by name, id) as j from phy where cluster_id is null group by 1
), cluster_hosts as (
  select cluster_id as id, json_agg(j order by name, id) as j from phy where cluster_id is not null group by 1
), clusters as (
  select c.datacenter_id as id, json_agg(json_build_object('ID', c.id, 'Name', c.name, 'PhyHosts', coalesce(ch.j, '[]'::json)) order by c.name, c.id) as j
  from vsphere_clusters c left join cluster_hosts ch on ch.id = c.id
  group by 1
), folder_level(id, level) as (
  select id, 1 from vsphere_folders where parent_id is null
  union all
  select f.id, fl.level + 1 from vsphere_folders f join folder_level fl on f.parent_id = fl.id
), ${Array.from({ length: FOLDER_LEVELS }, (_, i) => folderLevelSql(FOLDER_LEVELS - i, FOLDER_LEVELS)).join(', ')}, dcs as (
  select d.platform_id as id, json_agg(json_build_object('ID', d.id, 'Name', d.name, 'PhyHosts', coalesce(s.j, '[]'::json), 'Clusters', coalesce(c.j, '[]'::json),
      'VmGroups', coalesce(g1.j, '[]'::json)) order by d.name, d.id) as j
  from vsphere_datacenters d
  left join standalone s on s.id = d.id
  left join clusters c on c.id = d.id
  left join g1 on g1.id = d.id
  group by 1
)
select coalesce(json_agg(json_build_object('ID', p.id, 'Name', p.name, 'Ip', p.ip, 'IsVcenter', p.is_vcenter,
    'CreatedTime', to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS'), 'DataCenters', coalesce(dcs.j, '[]'::json)) order by p.created_at, p.id), '[]'::json)::text as data
from vsphere_platforms p left join dcs on dcs.id = p.id`;

// ---------------------------------------------------------------- checks

/** Objects with their keys sorted and arrays sorted by their elements' JSON: equal content compares equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0));
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  return value;
}

/** The first place two JSON values differ, for an error message. */
function firstDifference(a: unknown, b: unknown, at = '$'): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
      if (d) return d;
    }
  }
  return `${at}: ${JSON.stringify(a)?.slice(0, 300)} vs ${JSON.stringify(b)?.slice(0, 300)}`;
}

interface GqlVm { sourceHostId: string; disks: unknown[]; nics: unknown[] }
interface GqlPage { totalCount: number; pageInfo: { hasNextPage: boolean }; edges: { node: GqlVm }[] }
interface GqlFolder { vms: GqlPage; folders?: GqlFolder[] }
interface GqlTree {
  vspherePlatforms: { vmCount: number; datacenters: { clusters: { hosts: { vms: GqlPage }[] }[]; hosts: { vms: GqlPage }[]; vmFolders: GqlFolder[] }[] }[];
}
interface RestVt { Id: string; VolumeInfos: { Path: string }[]; NetInterfaces: { Mac: string }[] }
interface RestGroup { VTs: RestVt[]; VmGroups: RestGroup[] }
interface RestPlatform { DataCenters: { PhyHosts: { VTs: RestVt[] }[]; Clusters: { PhyHosts: { VTs: RestVt[] }[] }[]; VmGroups: RestGroup[] }[] }

/** VMs of the GraphQL answer under hosts and under folders; throws when a page was left to follow. */
function graphqlVms(tree: GqlTree): { onHosts: GqlVm[]; inFolders: GqlVm[] } {
  const take = (page: GqlPage): GqlVm[] => {
    if (page.pageInfo.hasNextPage || page.edges.length !== page.totalCount) throw new Error(`a VM connection has more than one page (${page.totalCount} VMs): the data must keep ≤ ${PAGE} VMs per host and folder`);
    return page.edges.map((e) => e.node);
  };
  const folderVms = (f: GqlFolder): GqlVm[] => [...take(f.vms), ...(f.folders ?? []).flatMap(folderVms)];
  const dcs = tree.vspherePlatforms.flatMap((p) => p.datacenters);
  return {
    onHosts: dcs.flatMap((d) => [...d.hosts, ...d.clusters.flatMap((c) => c.hosts)]).flatMap((h) => take(h.vms)),
    inFolders: dcs.flatMap((d) => d.vmFolders.flatMap(folderVms)),
  };
}
function restVms(tree: RestPlatform[]): { onHosts: RestVt[]; inFolders: RestVt[] } {
  const groupVms = (g: RestGroup): RestVt[] => [...g.VTs, ...g.VmGroups.flatMap(groupVms)];
  const dcs = tree.flatMap((p) => p.DataCenters);
  return { onHosts: dcs.flatMap((d) => [...d.PhyHosts, ...d.Clusters.flatMap((c) => c.PhyHosts)]).flatMap((h) => h.VTs), inFolders: dcs.flatMap((d) => d.VmGroups.flatMap(groupVms)) };
}

// ---------------------------------------------------------------- processes and CPU

/** CPU milliseconds a process used so far (user + system), from /proc (clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0; // a backend that has exited
  }
}

/** All CPUs' busy and total time so far, in clock ticks (10 ms), from /proc/stat. */
async function systemTicks(): Promise<{ busy: number; total: number }> {
  const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - (fields[4] ?? 0), total };
}

const cleanups: (() => Promise<unknown>)[] = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) await step().catch((err) => process.stderr.write(`cleanup: ${(err as Error).message}\n`));
}

// ---------------------------------------------------------------- the data

interface Vcsim {
  url: string;
  username: string;
  password: string;
  counts: VcsimCounts;
  stop(): Promise<void>;
}

/**
 * Our vcsim (test/vcsim) with the benchmark's inventory, as spawnVcsim() runs it but with more time
 * to build 5,000 VMs (on two busy vCPUs it can take more than spawnVcsim's 20 s); stopped at cleanup.
 */
async function startVcsim(dir: string): Promise<Vcsim> {
  const bin = await vcsimBinary();
  const tmp = path.join(dir, 'vcsim');
  await mkdir(tmp);
  const args = vcsimArgs({ datacenters: SHAPE.datacenters, clusters: SHAPE.clusters, clusterHosts: SHAPE.clusterHosts, hosts: SHAPE.hosts, vms: SHAPE.vms, folders: SHAPE.datacenters, folderDepth: SHAPE.folderDepth });
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000).then(() => proc.kill('SIGKILL'))]);
    await exited;
  };
  cleanups.push(stop);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  for (const end = Date.now() + 120_000; !out.includes('\n'); await sleep(100)) {
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`vcsim did not start: ${(out + err).slice(-2000)}`);
  }
  const started = JSON.parse(out.slice(0, out.indexOf('\n'))) as { url: string; username: string; password: string } & VcsimCounts;
  return { url: started.url, username: started.username, password: started.password, counts: started, stop };
}

/** The same shape as the vcsim run, written straight into the tables; VMs get 1–3 disks and 1–2 NICs. */
async function seed(db: pg.Client, transportId: string): Promise<void> {
  const platformId = randomUUID();
  await db.query(`insert into vsphere_platforms (id, name, ip, user_name, passwd_sealed, transport_id, is_vcenter, instance_uuid, refreshed_at) values ($1, 'bench', '127.0.0.1', 'user', 'v1.unused', $2, true, $3, now())`, [platformId, transportId, randomUUID()]);
  const rows = { dc: [] as unknown[][], cluster: [] as unknown[][], host: [] as unknown[][], folder: [] as unknown[][], vm: [] as unknown[][], disk: [] as unknown[][], nic: [] as unknown[][] };
  let moref = 0;
  let n = 0;
  const ref = (type: string) => `${type}-${++moref}`;
  const guests = [['linux', 'Ubuntu Linux (64-bit)'], ['windows', 'Microsoft Windows Server 2019 (64-bit)'], ['linux', 'Red Hat Enterprise Linux 8 (64-bit)'], ['other', 'Other (64-bit)']];
  for (let d = 0; d < SHAPE.datacenters; d++) {
    const dcId = randomUUID();
    rows.dc.push([dcId, ref('datacenter'), `DC${d}`]);
    // the folder chain F<d>/DC<d>_NF1/…/DC<d>_NF4, as vcsim -folder -folder-depth 4 builds it
    const chain: string[] = [];
    for (let level = 0; level <= SHAPE.folderDepth; level++) {
      const id = randomUUID();
      rows.folder.push([id, ref('group'), level === 0 ? `F${d}` : `DC${d}_NF${level}`, dcId, chain[level - 1] ?? null]);
      chain.push(id);
    }
    const dcVms: { name: string; host: string }[] = [];
    for (let c = 0; c < SHAPE.clusters; c++) {
      const clusterId = randomUUID();
      rows.cluster.push([clusterId, ref('domain-c'), `DC${d}_C${c}`, dcId]);
      const hosts = Array.from({ length: SHAPE.clusterHosts }, (_, h) => {
        const id = randomUUID();
        rows.host.push([id, ref('host'), `DC${d}_C${c}_H${h}`, dcId, clusterId]);
        return id;
      });
      for (let i = 0; i < SHAPE.vms; i++) dcVms.push({ name: `DC${d}_C${c}_RP0_VM${i}`, host: hosts[i % hosts.length] });
    }
    for (let h = 0; h < SHAPE.hosts; h++) {
      const id = randomUUID();
      rows.host.push([id, ref('host'), `DC${d}_H${h}`, dcId, null]);
      for (let i = 0; i < SHAPE.vms; i++) dcVms.push({ name: `DC${d}_H${h}_VM${i}`, host: id });
    }
    dcVms.sort((a, b) => (a.name < b.name ? -1 : 1));
    dcVms.forEach((v, j) => {
      const id = randomUUID();
      const k = n++;
      const [osType, osName] = guests[k % guests.length];
      const cpus = [1, 2, 4, 8][k % 4];
      const disks = 1 + (k % 3);
      let total = 0;
      for (let i = 0; i < disks; i++) {
        const capacity = (i === 0 ? 40 : 100 * i) * 2 ** 30;
        total += capacity;
        const file = `[LocalDS_${i % 2}] ${v.name}/${v.name}${i ? `_${i}` : ''}.vmdk`;
        rows.disk.push([randomUUID(), id, file, 'disk', String(capacity), i === 0 ? 'boot' : 'data', file, i < 2 ? 'SCSI controller 0' : 'SCSI controller 1']);
      }
      for (let i = 0; i < 1 + (k % 2); i++) {
        const mac = `00:50:56:${((k >> 8) & 0xff).toString(16).padStart(2, '0')}:${(k & 0xff).toString(16).padStart(2, '0')}:${i.toString(16).padStart(2, '0')}`;
        const ips = k % 5 === 0 ? [] : [`10.${d}.${(k >> 8) & 0xff}.${k & 0xff}`, ...(i === 0 && k % 7 === 0 ? [`fe80::250:56ff:fe00:${k.toString(16)}`] : [])];
        rows.nic.push([randomUUID(), id, `Network adapter ${i + 1}`, mac, JSON.stringify(ips), i === 0 ? 'VM Network' : `DVPG-${d}-${i}`]);
      }
      const level = SHAPE.folderDepth - (j % (SHAPE.folderDepth + 1));
      rows.vm.push([id, v.name, transportId, k % 5 === 0 ? null : `10.${d}.${(k >> 8) & 0xff}.${k & 0xff}`, osType, osName, cpus, Math.max(1, cpus / 2), String(cpus * 2 * 2 ** 30), String(total), 'vmware', platformId, v.host, chain[level], ref('vm'), randomUUID(), randomUUID(), k % 10 === 0 ? 'poweredOff' : 'poweredOn']);
    });
  }
  const insert = async (table: string, columns: string, types: string[], data: unknown[][]) => {
    for (let at = 0; at < data.length; at += 2000) {
      const chunk = data.slice(at, at + 2000);
      const arrays = types.map((_, i) => chunk.map((r) => r[i]));
      await db.query(`insert into ${table} (${columns}) select * from unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`, arrays);
    }
  };
  await insert('vsphere_datacenters', 'id, moref, name, platform_id', ['uuid', 'text', 'text', 'uuid'], rows.dc.map((r) => [...r, platformId]));
  await insert('vsphere_clusters', 'id, moref, name, datacenter_id, platform_id', ['uuid', 'text', 'text', 'uuid', 'uuid'], rows.cluster.map((r) => [...r, platformId]));
  await insert('vsphere_hosts', 'id, moref, name, datacenter_id, cluster_id, platform_id', ['uuid', 'text', 'text', 'uuid', 'uuid', 'uuid'], rows.host.map((r) => [...r, platformId]));
  await insert('vsphere_folders', 'id, moref, name, datacenter_id, parent_id, platform_id', ['uuid', 'text', 'text', 'uuid', 'uuid', 'uuid'], rows.folder.map((r) => [...r, platformId]));
  await insert(
    'source_hosts',
    'id, name, transport_id, mgnt_addr, os_type, os_name, cpu, sockets, memory, total_size, host_type, platform_id, esxi_host_id, folder_id, vm_moref, vm_uuid, vm_instance_uuid, power_state, agent, refreshed_at',
    ['uuid', 'text', 'uuid', 'text', 'text', 'text', 'int', 'int', 'bigint', 'bigint', 'text', 'uuid', 'uuid', 'uuid', 'text', 'text', 'text', 'text', 'boolean', 'timestamptz'],
    rows.vm.map((r) => [...r, false, new Date()]),
  );
  await insert('host_volumes', 'id, host_id, path, type, capacity, use_type, backing_file, controller', ['uuid', 'uuid', 'text', 'text', 'bigint', 'text', 'text', 'text'], rows.disk);
  await insert('host_net_interfaces', 'id, host_id, name, mac, ips, network', ['uuid', 'uuid', 'text', 'text', 'jsonb', 'text'], rows.nic);
  await db.query('analyze');
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const started = Date.now();
  const dbName = `ferry_bench_tree_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  cleanups.push(() => admin.end());
  await admin.query(`create database ${dbName}`);
  cleanups.push(async () => (KEEP_DB ? log(`database kept: ${dbName}`) : admin.query(`drop database if exists ${dbName} with (force)`)));
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-tree-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const sqlLog = path.join(dir, 'sql.log');

  log(`Ferry vSphere tree benchmark: data from ${DATA === 'vcsim' ? 'vcsim, added through AddVSPlatform' : 'rows seeded into the tables'}`);
  log(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // vcsim first: it builds its inventory while Ferry starts
  const vcsimStarting = DATA === 'vcsim' ? startVcsim(dir) : undefined;
  vcsimStarting?.catch(() => {});
  // AddVSPlatform has the platform's transport server reach it first: a real `ferry transport`
  const transportStarting: Promise<FerryProcess> | undefined =
    DATA === 'vcsim'
      ? spawnFerry('transport', ['--state', path.join(dir, 'transport')]).then((t) => {
          cleanups.push(() => t.stop());
          return t;
        })
      : undefined;
  transportStarting?.catch(() => {});

  const port = 20000 + Math.floor(Math.random() * 5000);
  const nodeArgs = (process.env.BENCH_FERRY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const ferry = spawn(process.execPath, [...nodeArgs, '--import', path.resolve('bench/sql-counter.mjs'), path.resolve('bin/ferry.js'), 'serve'], {
    env: { PATH: process.env.PATH, TZ: 'UTC', DATABASE_URL: dbUrl.toString(), FERRY_DATA_DIR: path.join(dir, 'data'), PORT: String(port), HOST: '127.0.0.1', FERRY_ADMIN_PASSWORD: PASSWORD, FERRY_HOST_CHECK_SECONDS: '3600', LOG_LEVEL: 'warn', BENCH_SQL_LOG: sqlLog },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  ferry.stdout!.on('data', (d) => (out += d));
  ferry.stderr!.on('data', (d) => (out += d));
  const ferryExited = new Promise((resolve) => ferry.once('exit', resolve));
  cleanups.push(async () => {
    if (ferry.exitCode === null && ferry.signalCode === null) ferry.kill('SIGTERM');
    await Promise.race([ferryExited, sleep(15_000).then(() => ferry.kill('SIGKILL'))]);
    await ferryExited;
  });
  const base = `http://127.0.0.1:${port}`;
  for (const end = Date.now() + 60_000; !out.includes('Ferry listening on'); await sleep(100)) if (Date.now() > end || ferry.exitCode !== null) throw new Error(`ferry serve did not start: ${out}`);

  const post = async (url: string, body: unknown, token?: string, tag?: string) => {
    const res = await fetch(base + url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}), ...(tag ? { 'x-bench-request': tag } : {}) }, body: JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  };
  const login = JSON.parse((await post('/Login', { UserName: 'admin', Password: PASSWORD })).text) as { Data: { Token: string } };
  const token = login.Data.Token;
  const changed = JSON.parse((await post('/MgntSetting', { Action: 'ChangePassword', UserName: 'admin', Password: PASSWORD, NewPassword: `${PASSWORD}x` }, token)).text) as { Code: boolean; Msg: string };
  if (changed.Code !== true) throw new Error(`ChangePassword: ${changed.Msg}`);

  const db = new pg.Client({ connectionString: dbUrl.toString() });
  await db.connect();
  cleanups.push(() => db.end());

  if (vcsimStarting && transportStarting) {
    const t0 = Date.now();
    const vc = await vcsimStarting.catch((err: Error) => {
      throw new Error(`${err.message}\n(vcsim needs golang-go and golang-github-vmware-govmomi-dev, see README; BENCH_DATA=seed runs without it)`);
    });
    const transport = await transportStarting;
    log(`vcsim: ${vc.counts.vms} VMs, ${vc.counts.hosts} hosts, ${vc.counts.clusters} clusters, ${vc.counts.datacenters} datacenters, ${vc.counts.folders} folders (all kinds); ready ${((Date.now() - started) / 1000).toFixed(1)} s after the start`);
    const paired = JSON.parse((await post('/MgmtTransportConnection', { Action: 'AddTransportServer', ServType: 'On-Premises', Name: 'dc-side', MgntAddr: transport.addr }, token)).text) as { Code: unknown; Msg: string; Data?: { ID: string } };
    if (!paired.Data?.ID) throw new Error(`AddTransportServer: ${JSON.stringify(paired).slice(0, 500)}`);
    const added = JSON.parse((await post('/portal/MgmtHostConnection', { Action: 'AddVSPlatform', Name: 'bench', Ip: vc.url, UserName: vc.username, Passwd: vc.password, TransId: paired.Data.ID }, token)).text) as { Code: number; Msg: string };
    if (added.Code !== 0) throw new Error(`AddVSPlatform: ${JSON.stringify(added).slice(0, 500)}`);
    log(`AddVSPlatform: ${added.Msg.slice(0, 120)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    // nothing is read from them any more: they must not take CPU from what is measured
    await Promise.all([vc.stop(), transport.stop()]);
    await db.query('analyze');
  } else {
    // the tree never calls the transport server: a row stands for it
    const transportId = randomUUID();
    await db.query(`insert into transport_servers (id, name, serv_type, mgnt_addr) values ($1, 'dc-side', 'On-Premises', '127.0.0.1:7002')`, [transportId]);
    const t0 = Date.now();
    await seed(db, transportId);
    log(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  const shape = (
    await db.query<{ vms: number; disks: number; nics: number; hosts: number; clusters: number; dcs: number; folders: number; max_host: number; max_folder: number; in_folders: number }>(`
      select (select count(*) from source_hosts where not agent)::int as vms,
             (select count(*) from host_volumes)::int as disks, (select count(*) from host_net_interfaces)::int as nics,
             (select count(*) from vsphere_hosts)::int as hosts, (select count(*) from vsphere_clusters)::int as clusters,
             (select count(*) from vsphere_datacenters)::int as dcs, (select count(*) from vsphere_folders)::int as folders,
             (select coalesce(max(n), 0) from (select count(*) n from source_hosts where esxi_host_id is not null group by esxi_host_id) x)::int as max_host,
             (select coalesce(max(n), 0) from (select count(*) n from source_hosts where folder_id is not null group by folder_id) x)::int as max_folder,
             (select count(*) from source_hosts where folder_id is not null)::int as in_folders`)
  ).rows[0];
  const depth = (await db.query<{ depth: number }>(`with recursive f(id, depth) as (select id, 1 from vsphere_folders where parent_id is null union all select c.id, f.depth + 1 from vsphere_folders c join f on c.parent_id = f.id) select max(depth)::int as depth from f`)).rows[0].depth;
  log(`stored: ${shape.vms} VMs (${shape.in_folders} of them in VM folders), ${shape.disks} disks, ${shape.nics} NICs, ${shape.hosts} ESXi hosts, ${shape.clusters} clusters, ${shape.dcs} datacenters, ${shape.folders} VM folders ${depth} deep; at most ${shape.max_host} VMs on a host, ${shape.max_folder} in a folder`);
  if (shape.max_host > PAGE || shape.max_folder > PAGE) throw new Error(`more than ${PAGE} VMs on a host or in a folder: the GraphQL query would leave pages to follow`);
  if (depth > FOLDER_LEVELS) throw new Error(`VM folders ${depth} deep: the query and the floor descend ${FOLDER_LEVELS}`);

  // -- the three ways, once each, checked against each other
  let tag = 0;
  const sqlFile = await open(sqlLog, 'r');
  cleanups.push(() => sqlFile.close());
  let sqlOffset = 0;
  /** statements logged since the last call: by request tag, and those of no request */
  const takeSql = async (): Promise<{ byTag: Map<string, string[]>; background: string[] }> => {
    const { size } = await sqlFile.stat();
    const buf = Buffer.alloc(size - sqlOffset);
    if (buf.length) await sqlFile.read(buf, 0, buf.length, sqlOffset);
    const text = buf.toString('utf8');
    const complete = text.lastIndexOf('\n') + 1;
    sqlOffset += Buffer.byteLength(text.slice(0, complete));
    const byTag = new Map<string, string[]>();
    const background: string[] = [];
    for (const line of text.slice(0, complete).split('\n').filter(Boolean)) {
      const [t, sql] = line.split('\t');
      if (t === '-') background.push(sql);
      else byTag.set(t, [...(byTag.get(t) ?? []), sql]);
    }
    return { byTag, background };
  };
  const graphqlRequest = (t: string) => post('/graphql', { query: TREE_QUERY }, token, t);
  const restRequest = (t: string) => post('/portal/MgmtHostConnection', { Action: 'ListVSHosts' }, token, t);
  const floorRequest = async () => (await db.query<{ data: string }>(FLOOR_SQL)).rows[0].data;

  await takeSql();
  const g = await graphqlRequest(`check-graphql`);
  const r = await restRequest(`check-rest`);
  const f = await floorRequest();
  const checkSql = await takeSql();
  const gql = JSON.parse(g.text) as { data?: GqlTree; errors?: unknown[] };
  if (g.status !== 200 || gql.errors || !gql.data) throw new Error(`GraphQL answered ${g.status}: ${g.text.slice(0, 500)}`);
  const rest = JSON.parse(r.text) as { Code: number; Data: RestPlatform[] };
  if (r.status !== 200 || rest.Code !== 0) throw new Error(`ListVSHosts answered ${r.status}: ${r.text.slice(0, 500)}`);
  const floor = JSON.parse(f) as RestPlatform[];
  const difference = firstDifference(canonical(floor), canonical(rest.Data));
  if (difference) throw new Error(`the floor's JSON is not ListVSHosts' Data; first difference (floor vs REST) at ${difference}`);
  const sameOrder = JSON.stringify(floor) === JSON.stringify(rest.Data);
  const gv = graphqlVms(gql.data);
  const rv = restVms(rest.Data);
  const ids = (vms: { sourceHostId?: string; Id?: string }[]) => vms.map((v) => v.sourceHostId ?? v.Id).sort().join();
  if (gv.onHosts.length !== shape.vms || ids(gv.onHosts) !== ids(rv.onHosts) || ids(gv.inFolders) !== ids(rv.inFolders)) {
    throw new Error(`GraphQL's tree holds ${gv.onHosts.length} VMs on hosts and ${gv.inFolders.length} in folders, ListVSHosts ${rv.onHosts.length} and ${rv.inFolders.length}, the database ${shape.vms}`);
  }
  const diskCount = (vms: { disks?: unknown[]; VolumeInfos?: unknown[] }[]) => vms.reduce((s, v) => s + (v.disks ?? v.VolumeInfos)!.length, 0);
  const nicCount = (vms: { nics?: unknown[]; NetInterfaces?: unknown[] }[]) => vms.reduce((s, v) => s + (v.nics ?? v.NetInterfaces)!.length, 0);
  if (diskCount(gv.onHosts) !== shape.disks || nicCount(gv.onHosts) !== shape.nics || diskCount(rv.onHosts) !== shape.disks || nicCount(rv.onHosts) !== shape.nics) {
    throw new Error(`disks/NICs: GraphQL ${diskCount(gv.onHosts)}/${nicCount(gv.onHosts)}, REST ${diskCount(rv.onHosts)}/${nicCount(rv.onHosts)}, stored ${shape.disks}/${shape.nics}`);
  }
  if (gql.data.vspherePlatforms[0].vmCount !== shape.vms) throw new Error(`vmCount ${gql.data.vspherePlatforms[0].vmCount}`);
  log(`checked: the floor's JSON equals ListVSHosts' Data (${sameOrder ? 'in the same order' : 'as sets: some lists are in another order'}); GraphQL's tree holds the same ${gv.onHosts.length} VMs on hosts and ${gv.inFolders.length} in folders, each with its disks and NICs, no page left to follow`);
  log(`answer sizes: GraphQL ${(g.text.length / 1e6).toFixed(2)} MB, REST ${(r.text.length / 1e6).toFixed(2)} MB, floor ${(f.length / 1e6).toFixed(2)} MB (JSON text)`);
  const statementsOf = (t: string) => checkSql.byTag.get(t) ?? [];
  log(`SQL statements of the first GraphQL request (${statementsOf('check-graphql').length}):`);
  for (const s of statementsOf('check-graphql')) log(`    ${s.slice(0, 150)}`);
  log(`SQL statements of the first ListVSHosts (${statementsOf('check-rest').length}):`);
  for (const s of statementsOf('check-rest')) log(`    ${s.slice(0, 150)}`);

  // -- the rounds
  type Way = 'graphql' | 'rest' | 'floor';
  const ways: Way[] = ['graphql', 'rest', 'floor'];
  const times: Record<Way, number[]> = { graphql: [], rest: [], floor: [] };
  const statements: Record<Way, number[]> = { graphql: [], rest: [], floor: [] };
  const ferryCpu: Record<Way, number> = { graphql: 0, rest: 0, floor: 0 };
  const pgCpu: Record<Way, number> = { graphql: 0, rest: 0, floor: 0 };
  let background = 0;
  const backendPids = async () => (await db.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database()`)).rows.map((row) => row.pid);
  const pgCpuMs = async (pids: number[]) => (await Promise.all(pids.map(cpuMs))).reduce((a, b) => a + b, 0);
  const measureStart = Date.now();
  const pidsAtStart = await backendPids();
  const usage0 = await Promise.all([systemTicks(), cpuMs(ferry.pid!), cpuMs(process.pid), pgCpuMs(pidsAtStart)]);
  let rounds = 0;
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const measured = round >= WARMUP;
    if (measured && (Date.now() - measureStart) / 1000 > MEASURE_SECONDS) break;
    if ((Date.now() - started) / 1000 > DEADLINE_SECONDS - 30) break;
    const order = ways.map((_, i) => ways[(i + round) % ways.length]);
    const pids = await backendPids();
    for (const way of order) {
      const t = `${way}-${++tag}`;
      const [cpu0, pg0] = await Promise.all([cpuMs(ferry.pid!), pgCpuMs(pids)]);
      const t0 = performance.now();
      let status = 200;
      if (way === 'graphql') status = (await graphqlRequest(t)).status;
      else if (way === 'rest') status = (await restRequest(t)).status;
      else await floorRequest();
      const elapsed = performance.now() - t0;
      const [cpu1, pg1] = await Promise.all([cpuMs(ferry.pid!), pgCpuMs(pids)]);
      if (status !== 200) throw new Error(`${way} answered ${status}`);
      const sql = await takeSql();
      background += sql.background.length;
      if (!measured) continue;
      times[way].push(elapsed);
      statements[way].push(way === 'floor' ? 1 : (sql.byTag.get(t) ?? []).length);
      ferryCpu[way] += cpu1 - cpu0;
      pgCpu[way] += pg1 - pg0;
    }
    if (measured) rounds++;
  }
  const measureSeconds = (Date.now() - measureStart) / 1000;
  // CPU time of everything else on the machine during the rounds (other programs make the figures noisy)
  const usage1 = await Promise.all([systemTicks(), cpuMs(ferry.pid!), cpuMs(process.pid), pgCpuMs(pidsAtStart)]);
  const oursMs = usage1[1] - usage0[1] + (usage1[2] - usage0[2]) + (usage1[3] - usage0[3]);
  const othersShare = Math.max(0, (usage1[0].busy - usage0[0].busy) * 10 - oursMs) / Math.max(1, (usage1[0].total - usage0[0].total) * 10);

  // -- results
  const stats = (way: Way) => {
    const sorted = [...times[way]].sort((a, b) => a - b);
    const st = [...statements[way]].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), min: sorted[0], max: sorted.at(-1)!, statements: percentile(st, 50), statementsRange: `${st[0]}–${st.at(-1)}`, ferryCpu: ferryCpu[way] / times[way].length, pgCpu: pgCpu[way] / times[way].length };
  };
  const s = { graphql: stats('graphql'), rest: stats('rest'), floor: stats('floor') };
  log(`\n${rounds} measured rounds (after ${WARMUP} warm-up rounds) in ${measureSeconds.toFixed(0)} s; each round runs the three in a rotating order, one at a time`);
  log(`  ${'way'.padEnd(34)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'min'.padStart(7)} ${'max'.padStart(7)} ${'× floor p50'.padStart(11)} ${'SQL stmts'.padStart(9)} ${'Ferry CPU ms'.padStart(12)} ${'PG CPU ms'.padStart(9)}`);
  const row = (label: string, x: ReturnType<typeof stats>) =>
    log(`  ${label.padEnd(34)} ${ms(x.p50).toFixed(1).padStart(8)} ${ms(x.p95).toFixed(1).padStart(8)} ${ms(x.min).toFixed(1).padStart(7)} ${ms(x.max).toFixed(1).padStart(7)} ${(x.p50 / s.floor.p50).toFixed(2).padStart(11)} ${String(x.statements).padStart(9)} ${x.ferryCpu.toFixed(0).padStart(12)} ${x.pgCpu.toFixed(0).padStart(9)}`);
  row('GraphQL (POST /graphql)', s.graphql);
  row('REST (ListVSHosts)', s.rest);
  row('floor (one SQL statement, pg client)', s.floor);
  log(`  SQL statements per request: GraphQL ${s.graphql.statementsRange}, REST ${s.rest.statementsRange} (sent by Ferry for the request, counted in the process); statements of no request during the rounds: ${background} (${(background / measureSeconds).toFixed(1)}/s, the task engine's poll)`);
  log(`  CPU per request (from /proc, 10 ms ticks): Ferry's process; PostgreSQL's backends of this database (Ferry's pool and the floor's connection)`);
  log(`  CPU used by other programs during the rounds: ${(othersShare * 100).toFixed(0)} % of all CPUs${othersShare > 0.05 ? ' (the figures are noisy)' : ''}; load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  log('\nAgainst the targets');
  const check = (what: string, ratio: number, goal: number) => log(`  ${ratio <= goal ? 'MET   ' : 'MISSED'}  ${what}: ${ratio.toFixed(2)}× the floor's p50 (target ≤ ${goal}×)`);
  check('GraphQL p50', s.graphql.p50 / s.floor.p50, 2);
  check('REST p50', s.rest.p50 / s.floor.p50, 1.5);
  log(
    JSON.stringify({
      vms: shape.vms,
      graphql_p50_ms: ms(s.graphql.p50),
      rest_p50_ms: ms(s.rest.p50),
      floor_p50_ms: ms(s.floor.p50),
      graphql_sql_statements: s.graphql.statements,
      graphql_p95_ms: ms(s.graphql.p95),
      rest_p95_ms: ms(s.rest.p95),
      floor_p95_ms: ms(s.floor.p95),
      rest_sql_statements: s.rest.statements,
      graphql_floor_ratio: Number((s.graphql.p50 / s.floor.p50).toFixed(2)),
      rest_floor_ratio: Number((s.rest.p50 / s.floor.p50).toFixed(2)),
      data: DATA,
      rounds,
      others_cpu_pct: Math.round(othersShare * 100),
    }),
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  process.stderr.write(`\nbench:tree: still running after ${DEADLINE_SECONDS} s: stopping\n`);
  void cleanup().finally(() => process.exit(1));
}, DEADLINE_SECONDS * 1000);
let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  process.stderr.write(`\nbench:tree FAILED: ${(err as Error).stack ?? err}\n`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exitCode = failed ? 1 : 0;
