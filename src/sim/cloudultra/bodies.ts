/** Request bodies of the CloudUltra 4 contract; unknown fields are refused. */
import { z } from 'zod';
import { orNull, resourceName } from '../signed-api/body.js';

const id = z.string().min(1).max(128);

export const createVolumeBody = z.strictObject({
  Name: resourceName,
  SizeGiB: z.number().int().min(1).max(65_536),
  VolumeTypeId: orNull(id),
  Bootable: orNull(z.boolean()),
});

export const createSnapshotBody = z.strictObject({ VolumeId: id, Name: resourceName });

export const attachBody = z.strictObject({ VolumeId: id });

/** A flavor, or custom Cpu + MemoryMiB (and optionally Sockets): one or the other. */
export const createServerBody = z
  .strictObject({
    Name: resourceName,
    FlavorId: orNull(id),
    Cpu: orNull(z.number().int().min(1).max(128)),
    Sockets: orNull(z.number().int().min(1).max(8)),
    MemoryMiB: orNull(z.number().int().min(256).max(1_048_576).multipleOf(256)),
    Volumes: z.array(id).min(1).max(16),
    NetworkId: id,
    SubnetId: orNull(id),
    FixedIp: orNull(z.string()),
    SecurityGroupId: orNull(id),
  })
  .refine((b) => (b.FlavorId !== undefined) !== (b.Cpu !== undefined || b.MemoryMiB !== undefined), { message: 'give FlavorId, or Cpu and MemoryMiB, not both', path: ['FlavorId'] })
  .refine((b) => b.FlavorId !== undefined || (b.Cpu !== undefined && b.MemoryMiB !== undefined), { message: 'Cpu and MemoryMiB go together', path: ['Cpu'] })
  .refine((b) => b.Sockets === undefined || (b.Cpu !== undefined && b.Cpu % b.Sockets === 0), { message: 'Sockets must divide Cpu', path: ['Sockets'] });
