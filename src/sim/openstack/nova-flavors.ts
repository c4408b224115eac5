import { badRequest, conflict, forbidden, notFound } from './errors.js';
import { newId } from './ids.js';
import { objectAt, parseBool, type Json } from './input.js';
import { paginate } from './listing.js';
import { atLeast } from './microversion.js';
import { flavorSummary, flavorView } from './nova-views.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';
import type { Flavor } from './state.js';

/** Nova flavors: list, show, and (admin) create and delete. */

export const novaFlavorRoutes: Route[] = [
  route('GET', '/v2.1/flavors', (req) => listFlavors(req, false)),
  route('GET', '/v2.1/flavors/detail', (req) => listFlavors(req, true)),
  route('POST', '/v2.1/flavors', createFlavor),
  route('GET', '/v2.1/flavors/:id', (req) => ({ status: 200, body: { flavor: flavorView(req, findFlavor(req, req.params.id)) } })),
  route('GET', '/v2.1/flavors/:id/os-extra_specs', (req) => (findFlavor(req, req.params.id), { status: 200, body: { extra_specs: {} } })),
  route('DELETE', '/v2.1/flavors/:id', deleteFlavor),
];

export function findFlavor(req: SimRequest, id: string): Flavor {
  const f = req.state.flavors.get(id);
  if (!f) throw notFound(`Flavor ${id} could not be found.`);
  return f;
}

function listFlavors(req: SimRequest, detail: boolean): Reply {
  const minRam = Number(req.query.get('minRam') ?? 0);
  const minDisk = Number(req.query.get('minDisk') ?? 0);
  if (Number.isNaN(minRam) || Number.isNaN(minDisk)) throw badRequest('Invalid minRam or minDisk filter');
  const flavors = [...req.state.flavors.values()].filter((f) => f.ramMiB >= minRam && f.diskGiB >= minDisk).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page = paginate(flavors, req.query, `${req.root}/flavors${detail ? '/detail' : ''}`);
  return { status: 200, body: { flavors: page.items.map((f) => (detail ? flavorView(req, f) : flavorSummary(req, f))), ...(page.links && { flavors_links: page.links }) } };
}

const isAdmin = (req: SimRequest) => req.token.roles.some((r) => r.name === 'admin');

function createFlavor(req: SimRequest): Reply {
  if (!isAdmin(req)) throw forbidden(`Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.`);
  const body = objectAt(req.body, 'flavor');
  if (!body) throw badRequest("Invalid input for field/attribute flavor. Value: None. 'flavor' is a required property");
  const name = body.name;
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 255) throw invalid('name', name, `'name' is a required property of 1 to 255 characters`);
  const ramMiB = integer(body, 'ram', 1, true);
  const vcpus = integer(body, 'vcpus', 1, true);
  const diskGiB = integer(body, 'disk', 0, true);
  const ephemeralGiB = integer(body, 'OS-FLV-EXT-DATA:ephemeral', 0, false) ?? 0;
  const swapMiB = integer(body, 'swap', 0, false) ?? 0;
  const id = body.id === undefined || body.id === null ? newId() : String(body.id);
  const flavors = [...req.state.flavors.values()];
  if (flavors.some((f) => f.name === name)) throw conflict(`Flavor with name ${name} already exists.`);
  if (req.state.flavors.has(id)) throw conflict(`Flavor with ID ${id} already exists.`);
  const flavor: Flavor = {
    id,
    name,
    vcpus: vcpus!,
    ramMiB: ramMiB!,
    diskGiB: diskGiB!,
    ephemeralGiB,
    swapMiB,
    rxtxFactor: typeof body.rxtx_factor === 'number' ? body.rxtx_factor : 1,
    isPublic: parseBool(body['os-flavor-access:is_public'] ?? true) ?? true,
    description: atLeast(req.version, 2, 55) && typeof body.description === 'string' ? body.description : null,
  };
  req.state.flavors.set(id, flavor);
  return { status: 200, body: { flavor: flavorView(req, flavor) } };
}

function deleteFlavor(req: SimRequest): Reply {
  if (!isAdmin(req)) throw forbidden(`Policy doesn't allow os_compute_api:os-flavor-manage:delete to be performed.`);
  req.state.flavors.delete(findFlavor(req, req.params.id).id);
  return { status: 202 };
}

const invalid = (field: string, value: unknown, reason: string) => badRequest(`Invalid input for field/attribute ${field}. Value: ${String(value)}. ${reason}`);

/** An integer field (Nova also takes digit strings); undefined when absent and optional. */
function integer(body: Json, field: string, min: number, required: boolean): number | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === '') {
    if (required) throw invalid(field, 'None', `'${field}' is a required property`);
    return undefined;
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw invalid(field, v, `${JSON.stringify(v)} is not of type 'integer', 'string'`);
  if (n < min) throw invalid(field, v, `${n} is less than the minimum of ${min}`);
  return n;
}
