import type { Port, SimState, Subnet } from './state.js';

/** IPv4 address management for the simulated Neutron. */

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export const intToIp = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = ipToInt(ip);
  const b = ipToInt(base);
  if (n === undefined || b === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n / size) === Math.floor(b / size);
}

/** Addresses taken on a subnet: its gateway and every port's fixed IP. */
export function usedAddresses(state: SimState, subnetId: string): Map<string, Port | 'gateway'> {
  const used = new Map<string, Port | 'gateway'>();
  const subnet = state.subnets.get(subnetId);
  if (subnet) used.set(subnet.gatewayIp, 'gateway');
  for (const port of state.ports.values()) {
    for (const ip of port.fixedIps) if (ip.subnet_id === subnetId) used.set(ip.ip_address, port);
  }
  return used;
}

/** Whether an address is one a port may hold: inside the CIDR, neither network nor broadcast address. */
export function assignable(ip: string, subnet: Subnet): boolean {
  if (!inCidr(ip, subnet.cidr)) return false;
  const [base, bits] = subnet.cidr.split('/');
  const n = ipToInt(ip)!;
  const first = ipToInt(base)!;
  return n !== first && n !== first + 2 ** (32 - Number(bits)) - 1;
}

/** The first free address of the subnet's allocation pool, or undefined when the pool is exhausted. */
export function nextFreeAddress(state: SimState, subnet: Subnet): string | undefined {
  const used = usedAddresses(state, subnet.id);
  for (let n = ipToInt(subnet.allocationPool.start)!; n <= ipToInt(subnet.allocationPool.end)!; n++) {
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
  return undefined;
}
