import { randomUUID } from 'node:crypto';
import type { Catalog, CloudState, QuotaLimits, Scope, ServerRec } from '../signed-api/cloud-state.js';
import { seedServer } from '../signed-api/server-ops.js';

export interface Owner {
  id: string;
  name: string;
  description: string;
  /** whether the simulator's AccessKey may use it: others are hidden from lists and answer 403 */
  mine: boolean;
}
export interface Environment {
  id: string;
  name: string;
  hypervisor: 'KVM' | 'VMWARE';
}
export interface Zone {
  id: string;
  name: string;
  environmentId: string;
  ownerIds: string[];
}

export interface CloudUltraWorld {
  user: { id: string; name: string };
  owners: Owner[];
  environments: Environment[];
  zones: Zone[];
  /** one per owner and zone open to it, keyed `${ownerId}/${zoneId}` */
  scopes: Map<string, Scope>;
  transport: ServerRec;
}

const QUOTA: QuotaLimits = { instances: 10, cores: 40, ramMiB: 81_920, volumes: 40, volumeGiB: 2048, snapshots: 50, publicIps: 0, bandwidthMbps: 0 };

function catalog(): Catalog {
  const flavor = (cpu: number, gib: number) => ({ id: randomUUID(), name: `c${cpu}m${gib}`, vcpus: cpu, ramMiB: gib * 1024, diskGiB: 0 });
  const subnet = (name: string, cidr: string) => ({ id: randomUUID(), name, cidr, gatewayIp: cidr.replace(/\.0\/\d+$/, '.1') });
  const [arstor, local, fcsan] = [randomUUID(), randomUUID(), randomUUID()];
  return {
    flavors: [flavor(1, 1), flavor(1, 2), flavor(2, 4), flavor(4, 8), flavor(8, 16), flavor(16, 32)],
    networks: [
      { id: randomUUID(), name: 'ferry-net', cidr: '10.10.0.0/16', subnets: [subnet('ferry-subnet', '10.10.1.0/24'), subnet('backup-subnet', '10.10.2.0/24')] },
      { id: randomUUID(), name: 'mgmt-net', cidr: '172.20.0.0/24', subnets: [subnet('mgmt-subnet', '172.20.0.0/24')] },
    ],
    routers: [],
    securityGroups: [
      { id: randomUUID(), name: 'default', description: 'all outbound; inbound from the same group' },
      { id: randomUUID(), name: 'ssh-only', description: 'inbound 22' },
    ],
    volumeTypes: [
      { id: randomUUID(), name: 'Capacity', storageId: arstor },
      { id: randomUUID(), name: 'Performance', storageId: fcsan },
      { id: randomUUID(), name: 'Local', storageId: local },
    ],
    storages: [
      { id: arstor, name: 'arstor-pool', type: 'ARSTOR', totalGiB: 204_800 },
      { id: fcsan, name: 'fc-san-01', type: 'FCSAN', totalGiB: 51_200 },
      { id: local, name: 'local-disk', type: 'LOCAL', totalGiB: 8192 },
    ],
  };
}

/** Projects (one not the key's), KVM and VMware environments, three zones, quotas, and the ACTIVE `ferry-transport`. */
export async function seedCloudUltra(state: CloudState): Promise<CloudUltraWorld> {
  const owner = (name: string, description: string, mine = true): Owner => ({ id: randomUUID(), name, description, mine });
  const owners = [owner('cmigrate', 'migration project'), owner('lipf_test', 'test project'), owner('finance', 'another department', false)];
  const [cmigrate, lipf, finance] = owners;
  const environments: Environment[] = [
    { id: '1', name: 'KVM', hypervisor: 'KVM' },
    { id: '2', name: 'VMware', hypervisor: 'VMWARE' },
  ];
  const zones: Zone[] = [
    { id: randomUUID(), name: 'DC-Shanghai-A', environmentId: '1', ownerIds: [cmigrate.id, lipf.id, finance.id] },
    { id: randomUUID(), name: 'DC-Shanghai-B', environmentId: '1', ownerIds: [cmigrate.id] },
    { id: randomUUID(), name: 'DC-VMware', environmentId: '2', ownerIds: [cmigrate.id] },
  ];
  const scopes = new Map<string, Scope>();
  for (const z of zones) for (const o of z.ownerIds) scopes.set(`${o}/${z.id}`, { key: `${o}/${z.id}`, quotaKey: o, catalog: catalog() });
  for (const o of owners) state.quotas.set(o.id, { ...QUOTA });
  const home = scopes.get(`${cmigrate.id}/${zones[0].id}`)!;
  const c4m8 = home.catalog.flavors.find((f) => f.name === 'c4m8')!;
  const transport = await seedServer(state, home, { name: 'ferry-transport', flavorId: c4m8.id, networkId: home.catalog.networks[0].id, ip: '10.10.1.10', bootGiB: 40 });
  return { user: { id: randomUUID(), name: 'admin' }, owners, environments, zones, scopes, transport };
}
