import { until } from './wait.js';

export interface OpenStackAnswer {
  status: number;
  body: any;
}

/** An operator at the simulated cloud's API: what a test does to the cloud behind Ferry's back. */
export interface OpenStackOperator {
  projectId: string;
  compute(method: string, path: string, body?: unknown): Promise<OpenStackAnswer>;
  volume(method: string, path: string, body?: unknown): Promise<OpenStackAnswer>;
  network(method: string, path: string, body?: unknown): Promise<OpenStackAnswer>;
  /** Sets Cinder quota limits (volumes, gigabytes, snapshots) for the project. */
  setVolumeQuota(limits: Record<string, number>): Promise<void>;
  /** Boots a server from a new 1 GiB volume and waits until it is ACTIVE; returns its id. */
  bootServer(name: string, flavorId: string, networkId: string): Promise<string>;
  /** The servers with exactly this name. */
  serversNamed(name: string): Promise<{ id: string; status: string }[]>;
}

/** Logs in to the simulator's Keystone as its admin and finds Nova and Cinder in the catalog. */
export async function openstackOperator(simUrl: string, password = 'secret'): Promise<OpenStackOperator> {
  const auth = { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password } } }, scope: { project: { name: 'demo', domain: { name: 'Default' } } } };
  const issued = await fetch(`${simUrl}/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth }) });
  if (issued.status !== 201) throw new Error(`simulator login failed: ${issued.status} ${await issued.text()}`);
  const token = issued.headers.get('x-subject-token')!;
  const { token: scoped } = (await issued.json()) as { token: { project: { id: string }; catalog: { type: string; endpoints: { interface: string; url: string }[] }[] } };
  const endpoint = (type: string) => scoped.catalog.find((s) => s.type === type)!.endpoints.find((e) => e.interface === 'public')!.url;
  const call = (root: string) => async (method: string, path: string, body?: unknown): Promise<OpenStackAnswer> => {
    const res = await fetch(`${root}${path}`, { method, headers: { 'content-type': 'application/json', 'x-auth-token': token }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const compute = call(endpoint('compute'));
  const volume = call(endpoint('volumev3'));
  const network = call(`${endpoint('network')}/v2.0`);
  const projectId = scoped.project.id;
  const expectStatus = (a: OpenStackAnswer, status: number, what: string) => {
    if (a.status !== status) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
    return a.body;
  };
  return {
    projectId,
    compute,
    volume,
    network,
    async setVolumeQuota(limits) {
      expectStatus(await volume('PUT', `/os-quota-sets/${projectId}`, { quota_set: limits }), 200, 'set volume quota');
    },
    async bootServer(name, flavorId, networkId) {
      const created = expectStatus(await volume('POST', '/volumes', { volume: { size: 1, name: `${name}-root` } }), 202, 'create a volume');
      await until(async () => (await volume('GET', `/volumes/${created.volume.id}`)).body.volume.status === 'available', 10_000);
      const server = { name, flavorRef: flavorId, networks: [{ uuid: networkId }], block_device_mapping_v2: [{ boot_index: 0, uuid: created.volume.id, source_type: 'volume', destination_type: 'volume' }] };
      const booted = expectStatus(await compute('POST', '/servers', { server }), 202, 'boot a server');
      await until(async () => (await compute('GET', `/servers/${booted.server.id}`)).body.server.status === 'ACTIVE', 10_000);
      return booted.server.id;
    },
    async serversNamed(name) {
      const listed = expectStatus(await compute('GET', `/servers/detail?name=${encodeURIComponent(`^${name}$`)}`), 200, 'list servers');
      return listed.servers.map((s: { id: string; status: string }) => ({ id: s.id, status: s.status }));
    },
  };
}
