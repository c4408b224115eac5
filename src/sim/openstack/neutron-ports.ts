import { badRequest, conflict, notFound } from './errors.js';
import { newId, newMac } from './ids.js';
import { assignable, ipToInt, nextFreeAddress, usedAddresses } from './ipam.js';
import type { Port, SimState, Subnet } from './state.js';

export interface PortRequest {
  networkId: string;
  /** wanted addresses; none: the first free one of the network's first subnet with room */
  fixedIps?: { subnet_id?: string; ip_address?: string }[];
  name?: string;
  deviceId?: string;
  deviceOwner?: string;
  securityGroupIds?: string[];
  projectId: string;
  ownedByServer?: boolean;
}

/** Makes a port as Neutron does, refusing what Neutron refuses (with its error types). */
export function createPort(state: SimState, r: PortRequest): Port {
  const network = state.networks.get(r.networkId);
  if (!network) throw notFound(`Network ${r.networkId} could not be found.`, 'NetworkNotFound');
  const subnets = [...state.subnets.values()].filter((s) => s.networkId === network.id);
  const fixedIps = r.fixedIps?.length ? r.fixedIps.map((want) => requestedAddress(state, network.id, subnets, want)) : [firstFree(state, network.id, subnets)];
  const seen = new Set<string>();
  for (const ip of fixedIps) {
    if (seen.has(ip.ip_address)) throw conflict(`IP address ${ip.ip_address} already allocated in subnet ${ip.subnet_id}`, 'IpAddressAlreadyAllocated');
    seen.add(ip.ip_address);
  }
  const securityGroupIds = r.securityGroupIds ?? [...state.securityGroups.values()].filter((g) => g.name === 'default' && g.projectId === r.projectId).map((g) => g.id);
  for (const id of securityGroupIds) {
    if (!state.securityGroups.has(id)) throw notFound(`Security group ${id} does not exist`, 'SecurityGroupNotFound');
  }
  const now = new Date();
  const port: Port = {
    id: newId(),
    name: r.name ?? '',
    networkId: network.id,
    fixedIps,
    macAddress: newMac(),
    deviceId: r.deviceId ?? '',
    deviceOwner: r.deviceOwner ?? '',
    securityGroupIds,
    status: 'DOWN',
    projectId: r.projectId,
    createdAt: now,
    updatedAt: now,
    ownedByServer: r.ownedByServer,
  };
  state.ports.set(port.id, port);
  return port;
}

function requestedAddress(state: SimState, networkId: string, subnets: Subnet[], want: { subnet_id?: string; ip_address?: string }) {
  let subnet: Subnet | undefined;
  if (want.subnet_id !== undefined) {
    subnet = subnets.find((s) => s.id === want.subnet_id);
    if (!subnet) {
      throw badRequest(`Invalid input for operation: Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${want.subnet_id}.`, 'InvalidInput');
    }
  }
  if (want.ip_address === undefined) {
    const ip = nextFreeAddress(state, subnet!);
    if (!ip) throw conflict(`No more IP addresses available on network ${networkId}.`, 'IpAddressGenerationFailure');
    return { subnet_id: subnet!.id, ip_address: ip };
  }
  if (ipToInt(want.ip_address) === undefined) throw badRequest(`Invalid input for operation: '${want.ip_address}' is not a valid IP address.`, 'InvalidInput');
  if (subnet && !assignable(want.ip_address, subnet)) {
    throw badRequest(`IP address ${want.ip_address} is not a valid IP for the specified subnet.`, 'InvalidIpForSubnet');
  }
  subnet ??= subnets.find((s) => assignable(want.ip_address!, s));
  if (!subnet) throw badRequest(`IP address ${want.ip_address} is not a valid IP for any of the subnets on the specified network.`, 'InvalidIpForNetwork');
  if (usedAddresses(state, subnet.id).has(want.ip_address)) {
    throw conflict(`IP address ${want.ip_address} already allocated in subnet ${subnet.id}`, 'IpAddressAlreadyAllocated');
  }
  return { subnet_id: subnet.id, ip_address: want.ip_address };
}

function firstFree(state: SimState, networkId: string, subnets: Subnet[]) {
  for (const subnet of subnets) {
    const ip = nextFreeAddress(state, subnet);
    if (ip) return { subnet_id: subnet.id, ip_address: ip };
  }
  throw conflict(`No more IP addresses available on network ${networkId}.`, 'IpAddressGenerationFailure');
}

/** The port holding an address on a network, if any. */
export function portWithAddress(state: SimState, networkId: string, ip: string): Port | undefined {
  return [...state.ports.values()].find((p) => p.networkId === networkId && p.fixedIps.some((f) => f.ip_address === ip));
}
