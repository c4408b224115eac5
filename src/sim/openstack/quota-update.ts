import { badRequest, forbidden } from './errors.js';
import { isObject, objectAt } from './input.js';
import type { SimRequest } from './router.js';

/**
 * PUT os-quota-sets/{project_id} as Nova and Cinder take it: an admin sets some limits (-1 is
 * unlimited); an unknown key or a value that is not a whole number ≥ -1 is refused, as is a limit
 * under what is already in use. Returns the limits to apply, keyed as the API names them.
 */
export function quotaUpdate(req: SimRequest, service: 'compute' | 'volume', current: Record<string, number>, inUse: Record<string, number>): Record<string, number> {
  if (!req.token.roles.some((r) => r.name === 'admin')) {
    throw forbidden(`Policy doesn't allow ${service === 'compute' ? 'os_compute_api:os-quota-sets:update' : 'volume_extension:quotas:update'} to be performed.`);
  }
  const body = objectAt(req.body, 'quota_set');
  if (!body) throw badRequest(service === 'compute' ? "Invalid input for field/attribute quota_set. Value: None. 'quota_set' is a required property" : 'Missing required element quota_set in request body.');
  const unknown = Object.keys(body).filter((k) => !(k in current) && k !== 'force');
  if (unknown.length) {
    throw badRequest(service === 'compute' ? `Additional properties are not allowed (${unknown.map((k) => `'${k}'`).join(', ')} ${unknown.length === 1 ? 'was' : 'were'} unexpected)` : `Bad key(s) in quota set: ${unknown.join(',')}`);
  }
  const force = service === 'compute' && isObject(body) && body.force === true;
  const limits: Record<string, number> = {};
  for (const [key, raw] of Object.entries(body)) {
    if (key === 'force') continue;
    const value = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -1) {
      const why = typeof value === 'number' && Number.isInteger(value) ? `${value} is less than the minimum of -1` : `'${String(raw)}' is not valid under any of the given schemas`;
      throw badRequest(service === 'compute' ? `Invalid input for field/attribute ${key}. Value: ${String(raw)}. ${why}` : `Quota limit ${String(raw)} for ${key} must be an integer greater than or equal to -1.`);
    }
    const used = inUse[key] ?? 0;
    if (!force && value !== -1 && value < used) {
      throw badRequest(`Quota limit ${value} for ${key} must be greater than or equal to already used and reserved ${used}.`);
    }
    limits[key] = value;
  }
  return limits;
}
