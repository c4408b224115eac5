import { setTimeout as sleep } from 'node:timers/promises';
import { CloudError } from '../cloud-driver.js';
import type { OpenStackApi } from './openstack-api.js';
import type { NeutronPort, NovaServer } from './openstack-models.js';

/** How long Nova may take to delete a server (it answers 204 at once, then deletes in the background). */
const SERVER_GONE_MS = 120_000;

/** The name of the port createServer makes for a server and passes to Nova as `networks: [{port}]`. */
export const portNameOf = (serverName: string) => `${serverName}-port`;

/**
 * Deletes a server and the port Ferry made for it; resolves once Nova no longer shows the server,
 * so its volumes are available again. A server already gone succeeds.
 *
 * Nova deletes only the ports it made itself: a port given to it as `networks: [{port}]` is just
 * unbound (device_id cleared), and would keep the fixed IP the next boot of this server asks for.
 * So Ferry deletes that port itself, and *before* the server: once the server is gone only its
 * name leads to the port, and a retry after a crash in between would have nothing but the id.
 * Neutron lets a bound port be deleted, and Nova, deleting the server, takes a port already gone
 * as unbound.
 */
export async function deleteServerAndPort(api: OpenStackApi, cloud: string, id: string): Promise<void> {
  const found = await api.requestUnlessGone<{ server: NovaServer }>(`read server ${id}`, 'compute', 'GET', serverPath(id));
  if (!found) return;
  const server = found.server;
  await deletePortsOf(api, cloud, server);
  await api.requestUnlessGone(`delete server ${server.name}`, 'compute', 'DELETE', serverPath(id));
  await waitUntilGone(api, cloud, server);
}

const serverPath = (id: string) => `/servers/${encodeURIComponent(id)}`;

/** The ports named as createServer names them, bound to this server or to none (Nova unbinds them when a build fails). */
async function deletePortsOf(api: OpenStackApi, cloud: string, server: NovaServer): Promise<void> {
  for (const port of await portsNamedFor(api, cloud, server.name)) {
    if (port.device_id === server.id || !port.device_id) await deletePort(api, port, server.name);
  }
}

/**
 * Before a boot: a port made for this server name and bound to nothing is left from a boot that
 * stopped between Neutron's answer and Nova's (a crash); it would hold the fixed IP asked for again.
 */
export async function deleteLeftoverPorts(api: OpenStackApi, cloud: string, serverName: string): Promise<void> {
  for (const port of await portsNamedFor(api, cloud, serverName)) if (!port.device_id) await deletePort(api, port, serverName);
}

async function portsNamedFor(api: OpenStackApi, cloud: string, serverName: string): Promise<NeutronPort[]> {
  const what = `find the port of server ${serverName}`;
  const query = `name=${encodeURIComponent(portNameOf(serverName))}&project_id=${encodeURIComponent(await api.projectId())}`;
  const body = await api.request<{ ports?: NeutronPort[] }>(what, 'network', 'GET', `/ports?${query}`);
  if (!Array.isArray(body?.ports)) throw new CloudError('bad-response', cloud, `${what} (Neutron GET /v2.0/ports)`, 'unexpected answer: no list of ports');
  return body.ports;
}

const deletePort = (api: OpenStackApi, port: NeutronPort, serverName: string) =>
  api.requestUnlessGone(`delete port ${port.id} of server ${serverName}`, 'network', 'DELETE', `/ports/${encodeURIComponent(port.id)}`);

async function waitUntilGone(api: OpenStackApi, cloud: string, server: NovaServer): Promise<void> {
  for (const end = Date.now() + SERVER_GONE_MS; ; await sleep(500)) {
    const left = await api.requestUnlessGone<{ server: NovaServer }>(`read server ${server.id}`, 'compute', 'GET', serverPath(server.id));
    if (!left || left.server.status === 'DELETED') return;
    if (Date.now() > end) {
      throw new CloudError('timeout', cloud, `delete server ${server.name} (Nova DELETE /servers/${server.id})`, `still there (status ${left.server.status}) after ${SERVER_GONE_MS / 1000} s`);
    }
  }
}
