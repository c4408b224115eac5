import { randomBytes } from 'node:crypto';
import type { Catalog, CloudState, FlavorRec, IdKind, QuotaLimits, Scope, ServerRec } from '../signed-api/cloud-state.js';
import { seedServer } from '../signed-api/server-ops.js';

export interface Region {
  id: string;
  name: string;
  /** whether the account may use it: calls in a region it may not answer 403 */
  enabled: boolean;
  scope: Scope;
}

export interface HuayunWorld {
  account: { id: string; name: string };
  regions: Region[];
  transport: ServerRec;
}

const PREFIX: Record<IdKind, string> = { server: 'ins', volume: 'vol', snapshot: 'snap' };
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
export const huayunId = (kind: IdKind | 'vpc' | 'subnet' | 'rtr' | 'sg') => `${kind in PREFIX ? PREFIX[kind as IdKind] : kind}-${hex(8)}`;

const QUOTA: QuotaLimits = { instances: 20, cores: 64, ramMiB: 131_072, volumes: 50, volumeGiB: 2048, snapshots: 100, publicIps: 5, bandwidthMbps: 200 };

/** Huayun's flavors: Name and ID are the same, `<n>核<m>G_SERIES_<series>` (104 of them: more than a page). */
export function huayunFlavors(): FlavorRec[] {
  const cores = [1, 2, 4, 6, 8, 12, 16, 24, 32, 40, 48, 56, 64];
  const series: [string, number[]][] = [
    ['STANDARD', [1, 2, 4]],
    ['SUPERCOMPUTER', [1, 2, 4]],
    ['MEMORY', [8, 16]],
  ];
  return series.flatMap(([name, ratios]) =>
    cores.flatMap((c) =>
      ratios.map((r) => {
        const id = `${c}核${c * r}G_SERIES_${name}`;
        return { id, name: id, vcpus: c, ramMiB: c * r * 1024, diskGiB: 40, series: name };
      }),
    ),
  );
}

function catalog(vpcs: { name: string; cidr: string; subnets: [string, string][]; router?: [string, boolean] }[]): Catalog {
  const networks = vpcs.map((v) => ({
    id: huayunId('vpc'),
    name: v.name,
    cidr: v.cidr,
    subnets: v.subnets.map(([name, cidr]) => ({ id: huayunId('subnet'), name, cidr, gatewayIp: cidr.replace(/\.0\/\d+$/, '.1') })),
  }));
  const routers = vpcs.flatMap((v, i) => (v.router ? [{ id: huayunId('rtr'), name: v.router[0], networkId: networks[i].id, externalGateway: v.router[1] }] : []));
  return {
    flavors: huayunFlavors(),
    networks,
    routers,
    securityGroups: [
      { id: huayunId('sg'), name: 'default', description: 'all outbound; inbound from the same group' },
      { id: huayunId('sg'), name: 'web', description: 'inbound 22, 80, 443' },
    ],
    volumeTypes: [
      { id: 'ssd', name: 'SSD云盘', storageId: 'st-ssd-01' },
      { id: 'efficiency', name: '高效云盘', storageId: 'st-hdd-01' },
      { id: 'capacity', name: '普通云盘', storageId: 'st-hdd-01' },
    ],
    storages: [
      { id: 'st-ssd-01', name: 'ssd-pool-01', type: 'SSD', totalGiB: 102_400 },
      { id: 'st-hdd-01', name: 'hdd-pool-01', type: 'HDD', totalGiB: 512_000 },
    ],
  };
}

/** Three regions (one the account may not use), their networks, quotas, and the ACTIVE `ferry-transport` in cn-suzhou1. */
export async function seedHuayun(state: CloudState): Promise<HuayunWorld> {
  const region = (id: string, name: string, enabled: boolean, cat: Catalog): Region => ({ id, name, enabled, scope: { key: id, quotaKey: id, catalog: cat } });
  const regions = [
    region('cn-suzhou1', '苏州', true, catalog([
      { name: 'ferry-vpc', cidr: '192.168.0.0/16', subnets: [['ferry-subnet-1', '192.168.1.0/24'], ['ferry-subnet-2', '192.168.2.0/24']], router: ['ferry-router', true] },
      { name: 'isolated-vpc', cidr: '10.0.0.0/16', subnets: [['isolated-subnet', '10.0.1.0/24']], router: ['internal-router', false] },
    ])),
    region('cn-beijing1', '北京', true, catalog([{ name: 'default-vpc', cidr: '172.16.0.0/16', subnets: [['default-subnet', '172.16.1.0/24']], router: ['default-router', true] }])),
    region('cn-hongkong1', '香港', false, catalog([{ name: 'default-vpc', cidr: '172.16.0.0/16', subnets: [['default-subnet', '172.16.1.0/24']] }])),
  ];
  for (const r of regions) state.quotas.set(r.scope.quotaKey, { ...QUOTA });
  const suzhou = regions[0].scope;
  const transport = await seedServer(state, suzhou, { name: 'ferry-transport', flavorId: '4核8G_SERIES_STANDARD', networkId: suzhou.catalog.networks[0].id, ip: '192.168.1.10', bootGiB: 40 });
  return { account: { id: `acct-${hex(6)}`, name: 'ferry-test' }, regions, transport };
}
