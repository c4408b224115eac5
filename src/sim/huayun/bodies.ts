/** Request bodies of the Huayun contract; unknown fields are refused. */
import { z } from 'zod';
import { orNull, resourceName } from '../signed-api/body.js';

const id = z.string().min(1).max(128);

export const createVolumeBody = z.strictObject({
  Name: resourceName,
  SizeGiB: z.number().int().min(1).max(32_768),
  VolumeTypeId: orNull(id),
  Bootable: orNull(z.boolean()),
});

export const createSnapshotBody = z.strictObject({ VolumeId: id, Name: resourceName });

export const attachBody = z.strictObject({ VolumeId: id });

export const createServerBody = z.strictObject({
  Name: resourceName,
  FlavorId: id,
  Volumes: z.array(id).min(1).max(16),
  VpcId: id,
  SubnetId: orNull(id),
  FixedIp: orNull(z.string()),
  SecurityGroupId: orNull(id),
  RouterId: orNull(id),
  BandwidthMbps: orNull(z.number().int().min(1).max(1000)),
});
