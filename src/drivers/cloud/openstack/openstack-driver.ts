import { CloudError, type Attachment, type CloudDriver, type CloudType, type CreateServerInput, type CreateVolumeInput, type DriverOptions, type Flavor, type NamedRef, type Network, type OpenStackSettings, type Quota, type Server, type Snapshot, type Storage, type Volume, type VolumeType } from '../cloud-driver.js';
import { KeystoneSession } from './keystone.js';
import { OpenStackApi } from './openstack-api.js';
import * as m from './openstack-models.js';
import { deleteLeftoverPorts, deleteServerAndPort, portNameOf } from './server-deletion.js';

const DEFAULT_TIMEOUT_MS = 15_000;
/** How long a bootable volume may take to become available before it can be marked bootable. */
const VOLUME_READY_MS = 120_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Nova's `name` filter is an unanchored regular expression: this one matches `name` alone. */
const exactNamePattern = (name: string) => `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;

/** OpenStack (Keystone v3, Nova v2.1, Neutron v2.0, Cinder v3); also ArcherOS 2020, which is OpenStack-based. */
export class OpenStackDriver implements CloudDriver {
  private readonly api: OpenStackApi;
  private readonly cloud: string;

  constructor(
    settings: OpenStackSettings,
    options: DriverOptions,
    readonly type: CloudType = 'Openstack',
  ) {
    this.cloud = options.cloudName;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.api = new OpenStackApi(new KeystoneSession(settings, this.cloud, timeoutMs), this.cloud, timeoutMs);
  }

  async verify(): Promise<void> {
    const token = await this.api.session.renew();
    for (const kind of ['compute', 'network', 'volume'] as const) this.api.session.endpoint(token, kind);
  }

  async projects(): Promise<NamedRef[]> {
    const body = await this.api.request<{ projects: NamedRef[] }>('list projects', 'identity', 'GET', '/auth/projects');
    return body.projects.map(({ id, name }) => ({ id, name }));
  }

  async environments(): Promise<NamedRef[]> {
    return [];
  }

  async zones(): Promise<NamedRef[]> {
    const body = await this.api.request<{ availabilityZoneInfo: { zoneName: string; zoneState?: { available?: boolean } }[] }>('list availability zones', 'compute', 'GET', '/os-availability-zone');
    return body.availabilityZoneInfo.filter((z) => z.zoneState?.available !== false).map((z) => ({ id: z.zoneName, name: z.zoneName }));
  }

  async regions(): Promise<NamedRef[]> {
    return this.api.session.regions(await this.api.session.current()).map((r) => ({ id: r, name: r }));
  }

  async flavors(): Promise<Flavor[]> {
    const body = await this.api.request<{ flavors: m.NovaFlavor[] }>('list flavors', 'compute', 'GET', '/flavors/detail');
    return body.flavors.map(m.toFlavor);
  }

  async networks(): Promise<Network[]> {
    const [nets, subnets] = await Promise.all([
      this.api.request<{ networks: NamedRef[] }>('list networks', 'network', 'GET', '/networks'),
      this.api.request<{ subnets: m.NeutronSubnet[] }>('list subnets', 'network', 'GET', '/subnets'),
    ]);
    return nets.networks.map((n) => ({ id: n.id, name: n.name, subnets: subnets.subnets.filter((s) => s.network_id === n.id).map(m.toSubnet) }));
  }

  async securityGroups(): Promise<NamedRef[]> {
    const projectId = await this.api.projectId();
    const body = await this.api.request<{ security_groups: NamedRef[] }>('list security groups', 'network', 'GET', `/security-groups?project_id=${encodeURIComponent(projectId)}`);
    return body.security_groups.map(({ id, name }) => ({ id, name }));
  }

  async volumeTypes(): Promise<VolumeType[]> {
    const body = await this.api.request<{ volume_types: m.CinderType[] }>('list volume types', 'volume', 'GET', '/types');
    return body.volume_types.map(m.toVolumeType);
  }

  async storages(): Promise<Storage[]> {
    const body = await this.api.request<{ pools: m.CinderPool[] }>('list storage pools', 'volume', 'GET', '/scheduler-stats/get_pools?detail=true');
    return body.pools.map(m.toStorage);
  }

  async quota(): Promise<Quota> {
    const projectId = encodeURIComponent(await this.api.projectId());
    const [nova, cinder] = await Promise.all([
      this.api.request<{ quota_set: Record<string, m.QuotaDetail> }>('read compute quota', 'compute', 'GET', `/os-quota-sets/${projectId}/detail`),
      this.api.request<{ quota_set: Record<string, m.QuotaDetail> }>('read volume quota', 'volume', 'GET', `/os-quota-sets/${projectId}?usage=true`),
    ]);
    return {
      cores: m.toQuotaItem(nova.quota_set.cores),
      ramMiB: m.toQuotaItem(nova.quota_set.ram),
      instances: m.toQuotaItem(nova.quota_set.instances),
      volumes: m.toQuotaItem(cinder.quota_set.volumes),
      volumeGiB: m.toQuotaItem(cinder.quota_set.gigabytes),
      snapshots: m.toQuotaItem(cinder.quota_set.snapshots),
    };
  }

  async serverNameTaken(name: string): Promise<boolean> {
    const body = await this.api.request<{ servers: { name: string }[] }>(`look for a server named ${name}`, 'compute', 'GET', `/servers?name=${encodeURIComponent(exactNamePattern(name))}`);
    return body.servers.some((s) => s.name === name);
  }

  async volumeNameTaken(name: string): Promise<boolean> {
    const body = await this.api.request<{ volumes: { name: string | null }[] }>(`look for a volume named ${name}`, 'volume', 'GET', `/volumes?name=${encodeURIComponent(name)}`);
    return body.volumes.some((v) => v.name === name);
  }

  async fixedIpsInUse(networkId: string): Promise<string[]> {
    const body = await this.api.request<{ ports: { fixed_ips: { ip_address: string }[] }[] }>('list ports', 'network', 'GET', `/ports?network_id=${encodeURIComponent(networkId)}`);
    return body.ports.flatMap((p) => p.fixed_ips.map((ip) => ip.ip_address));
  }

  async createVolume(input: CreateVolumeInput): Promise<Volume> {
    const request = { volume: { size: input.sizeGiB, name: input.name, volume_type: input.volumeTypeId, availability_zone: input.availabilityZone } };
    const body = await this.api.request<{ volume: m.CinderVolume }>(`create volume ${input.name}`, 'volume', 'POST', '/volumes', request);
    if (!input.bootable) return m.toVolume(body.volume);
    // Cinder marks a volume bootable only once it exists
    const ready = await this.waitForVolume(body.volume.id, input.name);
    await this.api.request(`mark volume ${input.name} bootable`, 'volume', 'POST', `/volumes/${ready.id}/action`, { 'os-set_bootable': { bootable: true } });
    return { ...ready, bootable: true };
  }

  private async waitForVolume(id: string, name: string): Promise<Volume> {
    for (const end = Date.now() + VOLUME_READY_MS; ; await sleep(500)) {
      const volume = await this.getVolume(id);
      if (volume.status === 'available') return volume;
      if (volume.status.startsWith('error')) throw new CloudError('server-error', this.cloud, `create volume ${name}`, `the volume went to status ${volume.status}`);
      if (Date.now() > end) throw new CloudError('timeout', this.cloud, `create volume ${name}`, `still ${volume.status} after ${VOLUME_READY_MS / 1000} s`);
    }
  }

  async getVolume(id: string): Promise<Volume> {
    const body = await this.api.request<{ volume: m.CinderVolume }>(`read volume ${id}`, 'volume', 'GET', `/volumes/${encodeURIComponent(id)}`);
    return m.toVolume(body.volume);
  }

  async findVolume(name: string): Promise<Volume | null> {
    const what = `find volume ${name}`;
    const body = await this.api.request<{ volumes: m.CinderVolume[] }>(what, 'volume', 'GET', `/volumes/detail?name=${encodeURIComponent(name)}`);
    const found = this.onlyOne(`${what} (Cinder GET /volumes/detail)`, 'volumes', name, body.volumes);
    return found ? m.toVolume(found) : null;
  }

  /** Deleting a volume that is gone, or already being deleted, succeeds: a retried step must not fail. */
  async deleteVolume(id: string): Promise<void> {
    try {
      await this.api.requestUnlessGone(`delete volume ${id}`, 'volume', 'DELETE', `/volumes/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'bad-request' && (await this.getVolume(id).then((v) => v.status, () => 'gone')) === 'deleting') return;
      throw err;
    }
  }

  async attachVolume(serverId: string, volumeId: string): Promise<Attachment> {
    const body = await this.api.request<{ volumeAttachment: { device?: string | null } }>(`attach volume ${volumeId} to server ${serverId}`, 'compute', 'POST', `/servers/${encodeURIComponent(serverId)}/os-volume_attachments`, { volumeAttachment: { volumeId } });
    return { serverId, volumeId, device: body.volumeAttachment.device ?? '' };
  }

  async detachVolume(serverId: string, volumeId: string): Promise<void> {
    await this.api.requestUnlessGone(`detach volume ${volumeId} from server ${serverId}`, 'compute', 'DELETE', `/servers/${encodeURIComponent(serverId)}/os-volume_attachments/${encodeURIComponent(volumeId)}`);
  }

  async createSnapshot(volumeId: string, name: string): Promise<Snapshot> {
    // force: the volume is attached to the transport while tasks run
    const body = await this.api.request<{ snapshot: m.CinderSnapshot }>(`snapshot volume ${volumeId}`, 'volume', 'POST', '/snapshots', { snapshot: { volume_id: volumeId, name, force: true } });
    return m.toSnapshot(body.snapshot);
  }

  async getSnapshot(id: string): Promise<Snapshot> {
    const body = await this.api.request<{ snapshot: m.CinderSnapshot }>(`read snapshot ${id}`, 'volume', 'GET', `/snapshots/${encodeURIComponent(id)}`);
    return m.toSnapshot(body.snapshot);
  }

  async findSnapshot(name: string): Promise<Snapshot | null> {
    const what = `find snapshot ${name}`;
    const body = await this.api.request<{ snapshots: m.CinderSnapshot[] }>(what, 'volume', 'GET', `/snapshots/detail?name=${encodeURIComponent(name)}`);
    const found = this.onlyOne(`${what} (Cinder GET /snapshots/detail)`, 'snapshots', name, body.snapshots);
    return found ? m.toSnapshot(found) : null;
  }

  async deleteSnapshot(id: string): Promise<void> {
    try {
      await this.api.requestUnlessGone(`delete snapshot ${id}`, 'volume', 'DELETE', `/snapshots/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'bad-request' && (await this.getSnapshot(id).then((v) => v.status, () => 'gone')) === 'deleting') return;
      throw err;
    }
  }

  /** The one item named exactly `name` (the service's filter is not trusted to be exact), null when none; several are a conflict. */
  private onlyOne<T extends { id: string; name: string | null }>(call: string, what: string, name: string, items: T[] | undefined, counts: (item: T) => boolean = () => true): T | null {
    if (!Array.isArray(items)) throw new CloudError('bad-response', this.cloud, call, `unexpected answer: no list of ${what}`);
    const named = items.filter((i) => i.name === name && counts(i));
    if (named.length > 1) throw new CloudError('conflict', this.cloud, call, `${named.length} ${what} are named ${name}: ${named.map((i) => i.id).join(', ')}`);
    return named[0] ?? null;
  }

  async createServer(input: CreateServerInput): Promise<Server> {
    const flavorId = input.flavorId ?? (await this.flavorFor(input));
    // a port carries the subnet, fixed IP and security group, whichever are given
    const fixedIp = input.fixedIp || input.subnetId ? [{ subnet_id: input.subnetId, ip_address: input.fixedIp }] : undefined;
    await deleteLeftoverPorts(this.api, this.cloud, input.name);
    const port = await this.api.request<{ port: { id: string } }>(`create a port for server ${input.name}`, 'network', 'POST', '/ports', {
      port: { network_id: input.networkId, name: portNameOf(input.name), fixed_ips: fixedIp, security_groups: input.securityGroupId ? [input.securityGroupId] : undefined },
    });
    const server = {
      name: input.name,
      flavorRef: flavorId,
      availability_zone: input.availabilityZone,
      networks: [{ port: port.port.id }],
      block_device_mapping_v2: input.volumeIds.map((uuid, i) => ({ boot_index: i, uuid, source_type: 'volume', destination_type: 'volume', delete_on_termination: false })),
    };
    const created = await this.api.request<{ server: { id: string } }>(`create server ${input.name}`, 'compute', 'POST', '/servers', { server });
    return this.getServer(created.server.id);
  }

  /** A flavor with exactly the CPUs and memory asked for: an existing one, else a new private one. */
  private async flavorFor(input: CreateServerInput): Promise<string> {
    const { vcpus, ramMiB } = input;
    if (!vcpus || !ramMiB) throw new CloudError('bad-request', this.cloud, `create server ${input.name}`, 'neither a flavor nor CPUs and memory were given');
    const match = (await this.flavors()).filter((f) => f.vcpus === vcpus && f.ramMiB === ramMiB).sort((a, b) => a.diskGiB - b.diskGiB)[0];
    if (match) return match.id;
    const flavor = { name: `ferry-${vcpus}c-${ramMiB}m`, vcpus, ram: ramMiB, disk: 0, 'os-flavor-access:is_public': false };
    const body = await this.api.request<{ flavor: { id: string } }>(`create flavor ${flavor.name} (no flavor has ${vcpus} vCPUs and ${ramMiB} MiB)`, 'compute', 'POST', '/flavors', { flavor });
    return body.flavor.id;
  }

  async getServer(id: string): Promise<Server> {
    const body = await this.api.request<{ server: m.NovaServer }>(`read server ${id}`, 'compute', 'GET', `/servers/${encodeURIComponent(id)}`);
    return m.toServer(body.server);
  }

  async findServer(name: string): Promise<Server | null> {
    const what = `find server ${name}`;
    const body = await this.api.request<{ servers: m.NovaServer[] }>(what, 'compute', 'GET', `/servers/detail?name=${encodeURIComponent(exactNamePattern(name))}`);
    const found = this.onlyOne(`${what} (Nova GET /servers/detail)`, 'servers', name, body.servers, (s) => !m.isLeaving(s));
    return found ? m.toServer(found) : null;
  }

  /** With the port createServer made for it: see deleteServerAndPort. */
  async deleteServer(id: string): Promise<void> {
    await deleteServerAndPort(this.api, this.cloud, id);
  }
}
