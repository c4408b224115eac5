/** The CloudUltra 4 wire shapes of docs/clouds/cloudultra.md that Huayun's lack, and how they become Ferry's cloud types. */
import { z } from 'zod';
import type { Flavor, Network, NamedRef, Quota, Server } from '../cloud-driver.js';
import { limit, networkOf, quotaLimits, quotaOf, serverOf, serverWith, subnet } from '../signed-api/models.js';

export const user = z.object({ UserId: z.string(), UserName: z.string(), AccessKey: z.string() });
export const owner = z.object({ OwnerId: z.string(), Name: z.string() });
export const environment = z.object({ EnvironmentId: z.string(), Name: z.string(), HypervisorType: z.string() });
export const zone = z.object({ ZoneId: z.string(), Name: z.string(), EnvironmentId: z.string() });
export const flavor = z.object({ FlavorId: z.string(), Name: z.string(), Cpu: z.number(), MemoryMiB: z.number(), DiskGiB: z.number() });
export const network = z.object({ NetworkId: z.string(), Name: z.string(), Subnets: z.array(subnet) });
export const quota = z.object({ Instances: limit, Cpu: limit, ...quotaLimits });
export const server = serverWith(z.object({ NetworkId: z.string(), NetworkName: z.string(), SubnetId: z.string(), Ip: z.string() }));

export const toOwner = (o: z.output<typeof owner>): NamedRef => ({ id: o.OwnerId, name: o.Name });
export const toEnvironment = (e: z.output<typeof environment>): NamedRef => ({ id: e.EnvironmentId, name: e.Name });
export const toZone = (zn: z.output<typeof zone>): NamedRef => ({ id: zn.ZoneId, name: zn.Name });
export const toFlavor = (f: z.output<typeof flavor>): Flavor => ({ id: f.FlavorId, name: f.Name, vcpus: f.Cpu, ramMiB: f.MemoryMiB, diskGiB: f.DiskGiB });
export const toNetwork = (n: z.output<typeof network>): Network => networkOf(n.NetworkId, n.Name, n.Subnets);
export const toQuota = (q: z.output<typeof quota>): Quota => quotaOf(q, q.Cpu);
export const toServer = (s: z.output<typeof server>): Server => serverOf(s, s.Nics.map((n) => [n.NetworkName, n.Ip]));
