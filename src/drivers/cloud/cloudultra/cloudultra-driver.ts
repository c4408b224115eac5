import { z } from 'zod';
import { CloudError, type Attachment, type CloudDriver, type CloudUltraSettings, type CreateServerInput, type CreateVolumeInput, type DriverOptions, type Flavor, type NamedRef, type Network, type Quota, type Server, type Snapshot, type Storage, type Volume, type VolumeType } from '../cloud-driver.js';
import { fetchOne, listAll } from '../signed-api/answers.js';
import { SignedApiClient, type Method, type QueryValues } from '../signed-api/signed-client.js';
import * as m from './cloudultra-models.js';

/** CloudUltra 4 through its APIMgntURL, AK/SK, scoped to an owner (project) and a zone: the contract in docs/clouds/cloudultra.md. */
export class CloudUltraDriver implements CloudDriver {
  readonly type = 'CloudUltra 4' as const;
  private readonly api: SignedApiClient;
  private readonly cloud: string;

  constructor(
    private readonly settings: CloudUltraSettings,
    options: DriverOptions,
  ) {
    this.cloud = options.cloudName;
    const baseUrl = `${settings.apiUrl.replace(/\/+$/, '')}/v4`;
    this.api = new SignedApiClient({ cloud: this.cloud, baseUrl, accessKey: settings.accessKey, secretKey: settings.secretKey, timeoutMs: options.timeoutMs });
  }

  async verify(): Promise<void> {
    const { ownerId, environmentId, zoneId } = this.settings;
    await fetchOne(this.api, this.cloud, 'check the AccessKey and SecretKey', 'GET', '/whoami', 'User', m.user);
    if (!ownerId && !environmentId && !zoneId) return;
    // 404 for an owner or environment that does not exist, 403 for an owner the key may not use
    const zones = await this.zones();
    if (zoneId && !zones.some((zn) => zn.id === zoneId)) {
      const within = [environmentId && `environment ${environmentId}`, ownerId && `project ${ownerId}`].filter(Boolean).join(' for ');
      throw new CloudError('not-found', this.cloud, 'check the zone', `zone ${zoneId} is not among the zones${within ? ` of ${within}` : ''}`);
    }
    if (ownerId && zoneId) await this.one(`check project ${ownerId} in zone ${zoneId}`, 'GET', '/quota', 'Quota', m.quota);
  }

  async projects(): Promise<NamedRef[]> {
    return (await listAll(this.api, this.cloud, 'list projects', '/owners', 'Owners', m.owner)).map(m.toOwner);
  }

  async environments(): Promise<NamedRef[]> {
    return (await listAll(this.api, this.cloud, 'list environments', '/environments', 'Environments', m.environment)).map(m.toEnvironment);
  }

  async zones(): Promise<NamedRef[]> {
    const query = { EnvironmentId: this.settings.environmentId, OwnerId: this.settings.ownerId };
    return (await listAll(this.api, this.cloud, 'list zones', '/zones', 'Zones', m.zone, query)).map(m.toZone);
  }

  async regions(): Promise<NamedRef[]> {
    return [];
  }

  async flavors(): Promise<Flavor[]> {
    return (await this.list('list flavors', '/flavors', 'Flavors', m.flavor)).map(m.toFlavor);
  }

  async networks(): Promise<Network[]> {
    return (await this.list('list networks', '/networks', 'Networks', m.network)).map(m.toNetwork);
  }

  async securityGroups(): Promise<NamedRef[]> {
    return (await this.list('list security groups', '/security-groups', 'SecurityGroups', m.securityGroup)).map((g) => ({ id: g.SecurityGroupId, name: g.Name }));
  }

  async volumeTypes(): Promise<VolumeType[]> {
    return (await this.list('list volume types', '/volume-types', 'VolumeTypes', m.volumeType)).map(m.toVolumeType);
  }

  async storages(): Promise<Storage[]> {
    return (await this.list('list storages', '/storages', 'Storages', m.storage)).map(m.toStorage);
  }

  async quota(): Promise<Quota> {
    return m.toQuota(await this.one('read the quota', 'GET', '/quota', 'Quota', m.quota));
  }

  async serverNameTaken(name: string): Promise<boolean> {
    const servers = await this.list(`look for server ${name}`, '/servers', 'Servers', m.server, { Name: name });
    return servers.some((s) => s.Name === name && s.Status !== 'DELETED');
  }

  async volumeNameTaken(name: string): Promise<boolean> {
    const volumes = await this.list(`look for volume ${name}`, '/volumes', 'Volumes', m.volume, { Name: name });
    return volumes.some((v) => v.Name === name);
  }

  async fixedIpsInUse(networkId: string): Promise<string[]> {
    const ips = await this.list(`list the IPs of network ${networkId}`, `/networks/${enc(networkId)}/ips`, 'Ips', m.ip);
    return ips.map((ip) => ip.Ip);
  }

  async createVolume(input: CreateVolumeInput): Promise<Volume> {
    const body = { Name: input.name, SizeGiB: input.sizeGiB, VolumeTypeId: input.volumeTypeId, Bootable: input.bootable ?? false };
    return m.toVolume(await this.one(`create volume ${input.name}`, 'POST', '/volumes', 'Volume', m.volume, { body }));
  }

  async getVolume(id: string): Promise<Volume> {
    return m.toVolume(await this.one(`get volume ${id}`, 'GET', `/volumes/${enc(id)}`, 'Volume', m.volume));
  }

  async deleteVolume(id: string): Promise<void> {
    await this.unlessGone(`delete volume ${id}`, `/volumes/${enc(id)}`);
  }

  async attachVolume(serverId: string, volumeId: string): Promise<Attachment> {
    const call = `attach volume ${volumeId} to server ${serverId}`;
    const a = await this.one(call, 'POST', `/servers/${enc(serverId)}/volumes`, 'Attachment', m.attachment, { body: { VolumeId: volumeId } });
    return { serverId: a.ServerId, volumeId: a.VolumeId, device: a.Device };
  }

  async detachVolume(serverId: string, volumeId: string): Promise<void> {
    const call = `detach volume ${volumeId} from server ${serverId}`;
    await this.api.request(call, 'DELETE', `/servers/${enc(serverId)}/volumes/${enc(volumeId)}`, { query: this.scope(call) });
  }

  async createSnapshot(volumeId: string, name: string): Promise<Snapshot> {
    return m.toSnapshot(await this.one(`create snapshot ${name} of volume ${volumeId}`, 'POST', '/snapshots', 'Snapshot', m.snapshot, { body: { VolumeId: volumeId, Name: name } }));
  }

  async getSnapshot(id: string): Promise<Snapshot> {
    return m.toSnapshot(await this.one(`get snapshot ${id}`, 'GET', `/snapshots/${enc(id)}`, 'Snapshot', m.snapshot));
  }

  async deleteSnapshot(id: string): Promise<void> {
    await this.unlessGone(`delete snapshot ${id}`, `/snapshots/${enc(id)}`);
  }

  /** A flavor, or custom vCPUs + memory (CloudUltra boots any size). */
  async createServer(input: CreateServerInput): Promise<Server> {
    const call = `create server ${input.name}`;
    if (!input.flavorId && !(input.vcpus && input.ramMiB)) throw new CloudError('bad-request', this.cloud, call, 'give a flavor, or vCPUs and memory');
    const body = {
      Name: input.name,
      ...(input.flavorId ? { FlavorId: input.flavorId } : { Cpu: input.vcpus, MemoryMiB: input.ramMiB }),
      Volumes: input.volumeIds,
      NetworkId: input.networkId,
      SubnetId: input.subnetId,
      FixedIp: input.fixedIp,
      SecurityGroupId: input.securityGroupId,
    };
    return m.toServer(await this.one(call, 'POST', '/servers', 'Server', m.server, { body }));
  }

  async getServer(id: string): Promise<Server> {
    return m.toServer(await this.one(`get server ${id}`, 'GET', `/servers/${enc(id)}`, 'Server', m.server));
  }

  /** OwnerId and ZoneId, which every call on a project's resources carries. */
  private scope(call: string): QueryValues {
    const { ownerId, zoneId } = this.settings;
    if (!ownerId) throw new CloudError('bad-request', this.cloud, call, 'the connection names no project (OwnerId): choose one first');
    if (!zoneId) throw new CloudError('bad-request', this.cloud, call, 'the connection names no zone (ZoneId): choose one first');
    return { OwnerId: ownerId, ZoneId: zoneId };
  }

  private list<S extends z.ZodType>(call: string, path: string, key: string, item: S, query: QueryValues = {}) {
    return listAll(this.api, this.cloud, call, path, key, item, { ...this.scope(call), ...query });
  }

  private one<S extends z.ZodType>(call: string, method: Method, path: string, key: string, schema: S, input: { body?: unknown } = {}) {
    return fetchOne(this.api, this.cloud, call, method, path, key, schema, { ...input, query: this.scope(call) });
  }

  /** DELETE; what is already gone counts as deleted. */
  private async unlessGone(call: string, path: string): Promise<void> {
    try {
      await this.api.request(call, 'DELETE', path, { query: this.scope(call) });
    } catch (err) {
      if (!(err instanceof CloudError && err.kind === 'not-found')) throw err;
    }
  }
}

const enc = encodeURIComponent;
