import { badRequest, notFound } from './errors.js';
import { isObject, objectAt, stringAt, type Json } from './input.js';
import { neutronFilter, paginate, selectFields } from './listing.js';
import { createPort } from './neutron-ports.js';
import { networkView, portView, ruleView, securityGroupView, subnetView } from './neutron-views.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';

/** Neutron v2.0: networks, subnets, ports, security groups. Paths are relative to the network endpoint. */

export const neutronRoutes: Route[] = [
  route('GET', '/', (req) => ({ status: 200, body: { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${req.root}/v2.0/`, rel: 'self' }] }] } }), 'none'),
  route('GET', '/v2.0/networks', (req) => list(req, 'networks', [...req.state.networks.values()].map((n) => networkView(req.state, n)))),
  route('GET', '/v2.0/networks/:id', (req) => show(req, 'network', 'NetworkNotFound', 'Network', req.state.networks.get(req.params.id) && networkView(req.state, req.state.networks.get(req.params.id)!))),
  route('GET', '/v2.0/subnets', (req) => list(req, 'subnets', [...req.state.subnets.values()].map(subnetView))),
  route('GET', '/v2.0/subnets/:id', (req) => show(req, 'subnet', 'SubnetNotFound', 'Subnet', req.state.subnets.get(req.params.id) && subnetView(req.state.subnets.get(req.params.id)!))),
  route('GET', '/v2.0/ports', listPorts),
  route('POST', '/v2.0/ports', postPort),
  route('GET', '/v2.0/ports/:id', (req) => show(req, 'port', 'PortNotFound', 'Port', req.state.ports.get(req.params.id) && portView(req.state.ports.get(req.params.id)!))),
  route('DELETE', '/v2.0/ports/:id', deletePort),
  route('GET', '/v2.0/security-groups', (req) => list(req, 'security_groups', [...req.state.securityGroups.values()].map(securityGroupView))),
  route('GET', '/v2.0/security-groups/:id', (req) => {
    const group = req.state.securityGroups.get(req.params.id);
    if (!group) throw notFound(`Security group ${req.params.id} does not exist`, 'SecurityGroupNotFound');
    return { status: 200, body: { security_group: selectFields([securityGroupView(group)], req.query)[0] } };
  }),
  route('GET', '/v2.0/security-group-rules', (req) => list(req, 'security_group_rules', [...req.state.securityGroups.values()].flatMap((g) => g.rules.map((r) => ruleView(g, r))))),
];

function list(req: SimRequest, collection: string, views: Json[]): Reply {
  const page = paginate(neutronFilter(views, req.query) as (Json & { id: string })[], req.query, `${req.root}/v2.0/${collection.replaceAll('_', '-')}`);
  return { status: 200, body: { [collection]: selectFields(page.items, req.query), ...(page.links && { [`${collection}_links`]: page.links }) } };
}

function show(req: SimRequest, member: string, errorType: string, label: string, view: Json | undefined): Reply {
  if (!view) throw notFound(`${label} ${req.params.id} could not be found.`, errorType);
  return { status: 200, body: { [member]: selectFields([view], req.query)[0] } };
}

/** `?fixed_ips=ip_address=10.0.0.5&fixed_ips=subnet_id=…`: ports holding such an address. */
function listPorts(req: SimRequest): Reply {
  const wanted = req.query.getAll('fixed_ips').map((f) => f.split('=', 2) as [string, string?]);
  const byKey = (key: string) => wanted.filter(([k]) => k === key).map(([, v]) => v ?? '');
  const ips = byKey('ip_address');
  const subnets = byKey('subnet_id');
  const ports = [...req.state.ports.values()].filter(
    (p) => (ips.length === 0 || p.fixedIps.some((f) => ips.includes(f.ip_address))) && (subnets.length === 0 || p.fixedIps.some((f) => subnets.includes(f.subnet_id))),
  );
  return list(req, 'ports', ports.map(portView));
}

function postPort(req: SimRequest): Reply {
  const body = objectAt(req.body, 'port');
  if (!body) throw badRequest("Unable to find 'port' in request body");
  const networkId = stringAt(body, 'network_id');
  if (!networkId) throw badRequest("Failed to parse request. Required attribute 'network_id' not specified");
  const fixedIps = body.fixed_ips;
  if (fixedIps !== undefined && (!Array.isArray(fixedIps) || !fixedIps.every(isObject))) {
    throw badRequest(`Invalid input for fixed_ips. Reason: Invalid data format for fixed IP: '${JSON.stringify(fixedIps)}'.`);
  }
  const groups = body.security_groups;
  if (groups !== undefined && (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string'))) {
    throw badRequest(`Invalid input for security_groups. Reason: '${JSON.stringify(groups)}' is not a list of strings.`);
  }
  const port = createPort(req.state, {
    networkId,
    fixedIps: fixedIps?.map((f: Json) => ({ subnet_id: stringAt(f, 'subnet_id'), ip_address: stringAt(f, 'ip_address') })),
    name: stringAt(body, 'name'),
    deviceId: stringAt(body, 'device_id'),
    deviceOwner: stringAt(body, 'device_owner'),
    securityGroupIds: groups as string[] | undefined,
    projectId: req.projectId,
  });
  return { status: 201, body: { port: portView(port) } };
}

function deletePort(req: SimRequest): Reply {
  const port = req.state.ports.get(req.params.id);
  if (!port) throw notFound(`Port ${req.params.id} could not be found.`, 'PortNotFound');
  req.state.ports.delete(port.id);
  for (const server of req.state.servers.values()) server.portIds = server.portIds.filter((id) => id !== port.id);
  return { status: 204 };
}
