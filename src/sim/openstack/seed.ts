import { nextFreeAddress } from './ipam.js';
import { newMac, stableId, stableKeystoneId } from './ids.js';
import type { Network, SecurityGroupRule, SimState, Subnet } from './state.js';

export interface SeedOptions {
  project: string;
  user: string;
  password: string;
}

export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' };
export const AVAILABILITY_ZONE = 'nova';
export const TRANSPORT_SERVER_NAME = 'ferry-transport';

/** What a fresh devstack-like cloud holds: one project and user, flavors, networks, types, pools, a transport server. */
export function seed(state: SimState, o: SeedOptions): void {
  const now = new Date();
  const project = { id: stableKeystoneId(`project:${o.project}`), name: o.project, domainId: DEFAULT_DOMAIN.id, description: '' };
  state.projects.set(project.id, project);
  const roles = ['admin', 'member', 'reader'].map((name) => ({ id: stableKeystoneId(`role:${name}`), name }));
  const user = { id: stableKeystoneId(`user:${o.user}`), name: o.user, password: o.password, domainId: DEFAULT_DOMAIN.id, roles, defaultProjectId: project.id };
  state.users.set(user.id, user);

  const flavors: [string, string, number, number, number][] = [
    ['1', 'm1.tiny', 1, 512, 1],
    ['2', 'm1.small', 1, 2048, 20],
    ['3', 'm1.medium', 2, 4096, 40],
    ['4', 'm1.large', 4, 8192, 80],
    ['5', 'm1.xlarge', 8, 16384, 160],
  ];
  for (const [id, name, vcpus, ramMiB, diskGiB] of flavors) {
    state.flavors.set(id, { id, name, vcpus, ramMiB, diskGiB, ephemeralGiB: 0, swapMiB: 0, rxtxFactor: 1, isPublic: true, description: null });
  }

  const network = (name: string, external: boolean): Network => {
    const n = { id: stableId(`network:${name}`), name, external, shared: false, mtu: external ? 1500 : 1450, projectId: project.id, createdAt: now };
    state.networks.set(n.id, n);
    return n;
  };
  const subnet = (net: Network, name: string, prefix: string): Subnet => {
    const s = {
      id: stableId(`subnet:${name}`),
      name,
      networkId: net.id,
      cidr: `${prefix}.0/24`,
      gatewayIp: `${prefix}.1`,
      allocationPool: { start: `${prefix}.2`, end: `${prefix}.254` },
      projectId: project.id,
      createdAt: now,
    };
    state.subnets.set(s.id, s);
    return s;
  };
  const priv = network('private', false);
  const privateSubnets = [subnet(priv, 'private-subnet', '10.0.0'), subnet(priv, 'private-subnet-2', '10.0.1')];
  subnet(network('public', true), 'public-subnet', '172.24.4');

  // the DHCP agent's port holds the first address of each private subnet, as on a real cloud
  const dhcp = {
    id: stableId('port:dhcp-private'),
    name: '',
    networkId: priv.id,
    fixedIps: privateSubnets.map((s) => ({ subnet_id: s.id, ip_address: nextFreeAddress(state, s)! })),
    macAddress: newMac(),
    deviceId: `dhcp${stableId('dhcp-agent')}-${priv.id}`,
    deviceOwner: 'network:dhcp',
    securityGroupIds: [],
    status: 'ACTIVE' as const,
    projectId: project.id,
    createdAt: now,
    updatedAt: now,
  };
  state.ports.set(dhcp.id, dhcp);

  const rule = (group: string, n: number, r: Partial<SecurityGroupRule> & Pick<SecurityGroupRule, 'direction' | 'ethertype'>): SecurityGroupRule => ({
    id: stableId(`sg-rule:${group}:${n}`),
    protocol: null,
    portMin: null,
    portMax: null,
    remoteIpPrefix: null,
    remoteGroupId: null,
    ...r,
  });
  const defaultId = stableId('security-group:default');
  const webId = stableId('security-group:web');
  state.securityGroups.set(defaultId, {
    id: defaultId,
    name: 'default',
    description: 'Default security group',
    projectId: project.id,
    createdAt: now,
    rules: [
      rule('default', 1, { direction: 'egress', ethertype: 'IPv4' }),
      rule('default', 2, { direction: 'egress', ethertype: 'IPv6' }),
      rule('default', 3, { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: defaultId }),
      rule('default', 4, { direction: 'ingress', ethertype: 'IPv6', remoteGroupId: defaultId }),
    ],
  });
  state.securityGroups.set(webId, {
    id: webId,
    name: 'web',
    description: 'HTTP and HTTPS from anywhere',
    projectId: project.id,
    createdAt: now,
    rules: [
      rule('web', 1, { direction: 'egress', ethertype: 'IPv4' }),
      rule('web', 2, { direction: 'egress', ethertype: 'IPv6' }),
      rule('web', 3, { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 80, portMax: 80, remoteIpPrefix: '0.0.0.0/0' }),
      rule('web', 4, { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 443, portMax: 443, remoteIpPrefix: '0.0.0.0/0' }),
    ],
  });

  for (const [name, description, backend] of [
    ['__DEFAULT__', 'Default Volume Type', undefined],
    ['ssd', 'Solid-state pool', 'ssd'],
    ['hdd', 'Spinning-disk pool', 'hdd'],
  ] as const) {
    const id = stableId(`volume-type:${name}`);
    state.volumeTypes.set(id, { id, name, description, backend });
  }
  state.pools.push({ name: 'cinder@ssd#ssd', backend: 'ssd', totalGiB: 2048, protocol: 'iSCSI' }, { name: 'cinder@hdd#hdd', backend: 'hdd', totalGiB: 8192, protocol: 'iSCSI' });

  seedTransportServer(state, project.id, user.id, privateSubnets[0], defaultId, now);
}

/** An ACTIVE server volumes can be attached to, as the transport VM of a migration. */
function seedTransportServer(state: SimState, projectId: string, userId: string, subnet: Subnet, securityGroupId: string, now: Date): void {
  const id = stableId(`server:${TRANSPORT_SERVER_NAME}`);
  const port = {
    id: stableId(`port:${TRANSPORT_SERVER_NAME}`),
    name: '',
    networkId: subnet.networkId,
    fixedIps: [{ subnet_id: subnet.id, ip_address: nextFreeAddress(state, subnet)! }],
    macAddress: newMac(),
    deviceId: id,
    deviceOwner: `compute:${AVAILABILITY_ZONE}`,
    securityGroupIds: [securityGroupId],
    status: 'ACTIVE' as const,
    projectId,
    createdAt: now,
    updatedAt: now,
    ownedByServer: true,
  };
  state.ports.set(port.id, port);
  state.servers.set(id, {
    id,
    name: TRANSPORT_SERVER_NAME,
    status: 'ACTIVE',
    vmState: 'active',
    taskState: null,
    powerState: 1,
    flavorId: '2',
    imageId: stableId('image:ferry-transport'),
    availabilityZone: AVAILABILITY_ZONE,
    portIds: [port.id],
    securityGroups: ['default'],
    metadata: {},
    instanceName: state.instanceName(),
    projectId,
    userId,
    createdAt: now,
    updatedAt: now,
    launchedAt: now,
  });
}
