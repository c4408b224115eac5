/** The Huayun wire shapes of docs/clouds/huayun.md that CloudUltra's lack, and how they become Ferry's cloud types. */
import { z } from 'zod';
import type { Flavor, Network, NamedRef, Quota, Server } from '../cloud-driver.js';
import { limit, networkOf, quotaLimits, quotaOf, serverOf, serverWith, subnet } from '../signed-api/models.js';

export const account = z.object({ AccountId: z.string(), AccountName: z.string(), AccessKey: z.string() });
export const region = z.object({ RegionId: z.string(), RegionName: z.string(), Enabled: z.boolean() });
export const flavor = z.object({ FlavorId: z.string(), Name: z.string(), VCpus: z.number(), MemoryMiB: z.number(), DiskGiB: z.number(), Series: z.string() });
export const vpc = z.object({ VpcId: z.string(), Name: z.string(), Cidr: z.string(), Subnets: z.array(subnet) });
export const router = z.object({ RouterId: z.string(), Name: z.string(), VpcId: z.string(), ExternalGateway: z.boolean() });
export const quota = z.object({ Instances: limit, Cores: limit, ...quotaLimits });
export const server = serverWith(z.object({ VpcId: z.string(), VpcName: z.string(), SubnetId: z.string(), PrivateIp: z.string() }));

export type HuayunFlavor = z.output<typeof flavor>;

export const toRegion = (r: z.output<typeof region>): NamedRef => ({ id: r.RegionId, name: r.RegionName });
export const toFlavor = (f: HuayunFlavor): Flavor => ({ id: f.FlavorId, name: f.Name, vcpus: f.VCpus, ramMiB: f.MemoryMiB, diskGiB: f.DiskGiB });
export const toNetwork = (v: z.output<typeof vpc>): Network => networkOf(v.VpcId, v.Name, v.Subnets);
export const toQuota = (q: z.output<typeof quota>): Quota => quotaOf(q, q.Cores);
export const toServer = (s: z.output<typeof server>): Server => serverOf(s, s.Nics.map((n) => [n.VpcName, n.PrivateIp]));

/**
 * The flavor for vcpus + ramMiB: an exact match (the STANDARD series first), else the smallest
 * that holds both. Huayun only boots its own flavors.
 */
export function pickFlavor(flavors: HuayunFlavor[], vcpus: number, ramMiB: number): HuayunFlavor | undefined {
  const fits = flavors.filter((f) => f.VCpus >= vcpus && f.MemoryMiB >= ramMiB);
  const rank = (f: HuayunFlavor) => [f.VCpus === vcpus && f.MemoryMiB === ramMiB ? 0 : 1, f.VCpus, f.MemoryMiB, f.Series === 'STANDARD' ? 0 : 1];
  return fits.sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
    return 0;
  })[0];
}
