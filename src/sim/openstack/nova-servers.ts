import { badRequest, conflict, notFound } from './errors.js';
import { paginate } from './listing.js';
import { releaseServerResources } from './nova-lifecycle.js';
import { serverAddresses, serverSummary, serverView } from './nova-views.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';
import type { Server } from './state.js';

/** Nova servers: list (name is a regular expression, as in Nova), show, delete, start/stop. */

export const novaServerRoutes: Route[] = [
  route('GET', '/v2.1/servers', (req) => listServers(req, false)),
  route('GET', '/v2.1/servers/detail', (req) => listServers(req, true)),
  route('GET', '/v2.1/servers/:id', (req) => ({ status: 200, body: { server: serverView(req, findServer(req, req.params.id)) } })),
  route('DELETE', '/v2.1/servers/:id', deleteServer),
  route('POST', '/v2.1/servers/:id/action', serverAction),
];

export function findServer(req: SimRequest, id: string): Server {
  const s = req.state.servers.get(id);
  if (!s) throw notFound(`Instance ${id} could not be found.`);
  return s;
}

/** Nova matches `name` (and `ip`) as an unanchored regular expression; a broken one is taken literally. */
function regex(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch {
    return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
}

function listServers(req: SimRequest, detail: boolean): Reply {
  const q = req.query;
  const name = q.has('name') ? regex(q.get('name')!) : undefined;
  const ip = q.has('ip') ? regex(q.get('ip')!) : undefined;
  const status = q.get('status')?.toUpperCase();
  const flavor = q.get('flavor');
  const servers = [...req.state.servers.values()]
    .filter((s) => s.projectId === req.projectId)
    .filter((s) => !name || name.test(s.name))
    .filter((s) => !status || s.status === status)
    .filter((s) => !flavor || s.flavorId === flavor)
    .filter((s) => !ip || Object.values(serverAddresses(req.state, s)).some((list) => list.some((a) => ip.test(a.addr))))
    .reverse(); // newest first, as Nova sorts by created_at desc
  const page = paginate(servers, q, `${req.root}/servers${detail ? '/detail' : ''}`);
  return { status: 200, body: { servers: page.items.map((s) => (detail ? serverView(req, s) : serverSummary(req, s))), ...(page.links && { servers_links: page.links }) } };
}

function deleteServer(req: SimRequest): Reply {
  const server = findServer(req, req.params.id);
  releaseServerResources(req.state, server);
  req.state.servers.delete(server.id);
  return { status: 204 };
}

function serverAction(req: SimRequest): Reply {
  const server = findServer(req, req.params.id);
  const body = req.body;
  const [action] = typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.keys(body) : [];
  const refuse = (what: string) => conflict(`Cannot '${what}' instance ${server.id} while it is in vm_state ${server.vmState}`);
  const set = (status: Server['status'], vmState: string, powerState: number) => {
    Object.assign(server, { status, vmState, powerState, updatedAt: new Date() });
    return { status: 202 };
  };
  switch (action) {
    case 'os-stop':
      if (server.status !== 'ACTIVE') throw refuse('stop');
      return set('SHUTOFF', 'stopped', 4);
    case 'os-start':
      if (server.status !== 'SHUTOFF') throw refuse('start');
      return set('ACTIVE', 'active', 1);
    case 'reboot':
      if (server.status !== 'ACTIVE' && server.status !== 'SHUTOFF') throw refuse('reboot');
      return set('ACTIVE', 'active', 1);
    default:
      throw badRequest(`There is no such action: ${action ?? 'None'}`);
  }
}
