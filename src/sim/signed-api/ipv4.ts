/** IPv4 arithmetic for subnets: addresses as unsigned 32-bit integers. */

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export const intToIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

/** The usable host addresses of a CIDR (without the network and broadcast addresses). */
export function hostRange(cidr: string): { first: number; last: number } {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const network = Math.floor(ipToInt(base)! / size) * size;
  return { first: network + 1, last: network + size - 2 };
}

export function isHostIn(ip: string, cidr: string): boolean {
  const n = ipToInt(ip);
  const { first, last } = hostRange(cidr);
  return n !== undefined && n >= first && n <= last;
}
