import { isoSeconds } from './ids.js';
import type { Network, Port, SecurityGroup, SecurityGroupRule, SimState, Subnet } from './state.js';

/** Neutron v2.0 resources as the API shows them (admin view, with the ml2 and common extensions). */

export function networkView(state: SimState, n: Network) {
  const subnets = [...state.subnets.values()].filter((s) => s.networkId === n.id).map((s) => s.id);
  return {
    id: n.id,
    name: n.name,
    tenant_id: n.projectId,
    project_id: n.projectId,
    admin_state_up: true,
    mtu: n.mtu,
    status: 'ACTIVE',
    subnets,
    shared: n.shared,
    availability_zone_hints: [],
    availability_zones: ['nova'],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    'router:external': n.external,
    ...(n.external && { is_default: false }),
    description: '',
    port_security_enabled: true,
    qos_policy_id: null,
    l2_adjacency: true,
    dns_domain: '',
    'provider:network_type': n.external ? 'flat' : 'vxlan',
    'provider:physical_network': n.external ? 'public' : null,
    'provider:segmentation_id': n.external ? null : 256 + [...state.networks.keys()].indexOf(n.id),
    tags: [],
    created_at: isoSeconds(n.createdAt),
    updated_at: isoSeconds(n.createdAt),
    revision_number: 1 + subnets.length,
  };
}

export function subnetView(s: Subnet) {
  return {
    id: s.id,
    name: s.name,
    tenant_id: s.projectId,
    project_id: s.projectId,
    network_id: s.networkId,
    ip_version: 4,
    subnetpool_id: null,
    enable_dhcp: true,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    gateway_ip: s.gatewayIp,
    cidr: s.cidr,
    allocation_pools: [s.allocationPool],
    host_routes: [],
    dns_nameservers: [],
    description: '',
    service_types: [],
    segment_id: null,
    tags: [],
    created_at: isoSeconds(s.createdAt),
    updated_at: isoSeconds(s.createdAt),
    revision_number: 0,
  };
}

export function portView(p: Port) {
  const bound = p.deviceOwner.startsWith('compute:') || p.deviceOwner.startsWith('network:');
  return {
    id: p.id,
    name: p.name,
    network_id: p.networkId,
    tenant_id: p.projectId,
    project_id: p.projectId,
    mac_address: p.macAddress,
    admin_state_up: true,
    status: p.status,
    device_id: p.deviceId,
    device_owner: p.deviceOwner,
    fixed_ips: p.fixedIps.map((ip) => ({ ...ip })),
    allowed_address_pairs: [],
    extra_dhcp_opts: [],
    security_groups: [...p.securityGroupIds],
    description: '',
    'binding:vnic_type': 'normal',
    'binding:host_id': bound ? 'sim-compute' : '',
    'binding:profile': {},
    'binding:vif_type': bound ? 'ovs' : 'unbound',
    'binding:vif_details': bound ? { port_filter: true, connectivity: 'l2' } : {},
    port_security_enabled: true,
    qos_policy_id: null,
    ip_allocation: 'immediate',
    tags: [],
    created_at: isoSeconds(p.createdAt),
    updated_at: isoSeconds(p.updatedAt),
    revision_number: 1,
  };
}

export function securityGroupView(g: SecurityGroup) {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    tenant_id: g.projectId,
    project_id: g.projectId,
    stateful: true,
    shared: false,
    security_group_rules: g.rules.map((r) => ruleView(g, r)),
    tags: [],
    created_at: isoSeconds(g.createdAt),
    updated_at: isoSeconds(g.createdAt),
    revision_number: 1,
  };
}

export function ruleView(g: SecurityGroup, r: SecurityGroupRule) {
  return {
    id: r.id,
    security_group_id: g.id,
    tenant_id: g.projectId,
    project_id: g.projectId,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol,
    port_range_min: r.portMin,
    port_range_max: r.portMax,
    remote_ip_prefix: r.remoteIpPrefix,
    remote_group_id: r.remoteGroupId,
    remote_address_group_id: null,
    normalized_cidr: r.remoteIpPrefix,
    description: '',
    tags: [],
    created_at: isoSeconds(g.createdAt),
    updated_at: isoSeconds(g.createdAt),
    revision_number: 0,
  };
}
