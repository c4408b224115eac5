import { conflict, invalid } from './api-error.js';
import type { CloudState, NetworkRec, Scope, SubnetRec } from './cloud-state.js';
import { hostRange, intToIp, ipToInt, isHostIn } from './ipv4.js';

export interface AddressRec {
  ip: string;
  subnetId: string;
  use: 'gateway' | 'server';
  serverId?: string;
}

/** The addresses taken on a network: each subnet's gateway and the servers' fixed IPs. */
export function addressesOf(state: CloudState, scope: Scope, network: NetworkRec): AddressRec[] {
  const gateways: AddressRec[] = network.subnets.map((s) => ({ ip: s.gatewayIp, subnetId: s.id, use: 'gateway' }));
  const servers: AddressRec[] = state
    .inScope(state.servers, scope)
    .filter((s) => s.networkId === network.id)
    .map((s) => ({ ip: s.ip, subnetId: s.subnetId, use: 'server', serverId: s.id }));
  return [...gateways, ...servers].sort((a, b) => ipToInt(a.ip)! - ipToInt(b.ip)!);
}

/** `fixedIp` when it is a free host address of the subnet, else the lowest free one. */
export function allocateIp(state: CloudState, scope: Scope, network: NetworkRec, subnet: SubnetRec, fixedIp?: string): string {
  const taken = new Set(addressesOf(state, scope, network).map((a) => a.ip));
  if (fixedIp !== undefined) {
    if (ipToInt(fixedIp) === undefined) throw invalid(`FixedIp "${fixedIp}" is not an IPv4 address`);
    if (!isHostIn(fixedIp, subnet.cidr)) throw invalid(`FixedIp ${fixedIp} is not a host address of subnet ${subnet.id} (${subnet.cidr})`);
    if (taken.has(fixedIp)) throw conflict(`IP ${fixedIp} is already in use on subnet ${subnet.id}`);
    return fixedIp;
  }
  const { first, last } = hostRange(subnet.cidr);
  for (let n = first; n <= last; n++) if (!taken.has(intToIp(n))) return intToIp(n);
  throw conflict(`subnet ${subnet.id} (${subnet.cidr}) has no free address`);
}

/** The next public address (from 203.0.113.0/24, documentation space) not held by a server. */
export function allocatePublicIp(state: CloudState): string {
  const held = new Set([...state.servers.values()].map((s) => s.publicIp));
  for (let host = 10; host < 255; host++) if (!held.has(`203.0.113.${host}`)) return `203.0.113.${host}`;
  throw conflict('no public IP is left');
}
