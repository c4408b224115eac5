import { accessDenied, notFound } from '../signed-api/api-error.js';
import type { Scope } from '../signed-api/cloud-state.js';
import type { Query } from '../signed-api/query.js';
import type { CloudUltraWorld, Owner } from './seed.js';

/** An owner the key may use: 404 when it does not exist, 403 when it is not the key's. */
export function ownerOf(world: CloudUltraWorld, ownerId: string): Owner {
  const owner = world.owners.find((o) => o.id === ownerId);
  if (!owner) throw notFound(`project (owner) ${ownerId} does not exist`);
  if (!owner.mine) throw accessDenied(`this AccessKey may not use project (owner) ${ownerId}`);
  return owner;
}

/** The scope of OwnerId + ZoneId, which every call on a project's resources carries. */
export function scopeOf(world: CloudUltraWorld, query: Query): Scope {
  const owner = ownerOf(world, query.require('OwnerId'));
  const zoneId = query.require('ZoneId');
  const zone = world.zones.find((z) => z.id === zoneId);
  if (!zone) throw notFound(`zone ${zoneId} does not exist`);
  const scope = world.scopes.get(`${owner.id}/${zone.id}`);
  if (!scope) throw accessDenied(`project ${owner.name} may not use zone ${zone.name}`);
  return scope;
}
