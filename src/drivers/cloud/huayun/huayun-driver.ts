import { z } from 'zod';
import { CloudError, type Attachment, type CloudDriver, type CreateServerInput, type CreateVolumeInput, type DriverOptions, type Flavor, type HuayunSettings, type NamedRef, type Network, type Quota, type Server, type Snapshot, type Storage, type Volume, type VolumeType } from '../cloud-driver.js';
import { fetchOne, listAll } from '../signed-api/answers.js';
import { SignedApiClient, type Method, type QueryValues } from '../signed-api/signed-client.js';
import * as m from './huayun-models.js';

/** Huayun's extras when booting: a public IP of `bandwidthMbps` through router `routerId`. */
export interface HuayunServerInput extends CreateServerInput {
  routerId?: string;
  bandwidthMbps?: number;
}

export interface HuayunRouter extends NamedRef {
  networkId: string;
  externalGateway: boolean;
}

/** Huayun public cloud, AK/SK, per region: the contract in docs/clouds/huayun.md. */
export class HuayunDriver implements CloudDriver {
  readonly type = 'Huayun' as const;
  private readonly api: SignedApiClient;
  private readonly cloud: string;

  constructor(
    private readonly settings: HuayunSettings,
    options: DriverOptions,
  ) {
    this.cloud = options.cloudName;
    const baseUrl = `${settings.endpoint.replace(/\/+$/, '')}/v1`;
    this.api = new SignedApiClient({ cloud: this.cloud, baseUrl, accessKey: settings.accessKey, secretKey: settings.secretKey, timeoutMs: options.timeoutMs });
  }

  async verify(): Promise<void> {
    await this.one('check the AccessKey and SecretKey', 'GET', '/account', 'Account', m.account);
    // the region's quota: 404 for a region that does not exist, 403 for one the account may not use
    if (this.settings.regionId) await this.one(`check region ${this.settings.regionId}`, 'GET', '/quota', 'Quota', m.quota);
  }

  async projects(): Promise<NamedRef[]> {
    return [];
  }

  async environments(): Promise<NamedRef[]> {
    return [];
  }

  async zones(): Promise<NamedRef[]> {
    return [];
  }

  async regions(): Promise<NamedRef[]> {
    return (await listAll(this.api, this.cloud, 'list regions', '/regions', 'Regions', m.region)).map(m.toRegion);
  }

  async flavors(): Promise<Flavor[]> {
    return (await this.list('list flavors', '/flavors', 'Flavors', m.flavor)).map(m.toFlavor);
  }

  async networks(): Promise<Network[]> {
    return (await this.list('list VPCs', '/vpcs', 'Vpcs', m.vpc)).map(m.toNetwork);
  }

  /** Routers (Huayun only): a server's public IP goes out through one with an external gateway. */
  async routers(): Promise<HuayunRouter[]> {
    const routers = await this.list('list routers', '/routers', 'Routers', m.router);
    return routers.map((r) => ({ id: r.RouterId, name: r.Name, networkId: r.VpcId, externalGateway: r.ExternalGateway }));
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
    const ips = await this.list(`list the private IPs of VPC ${networkId}`, `/vpcs/${enc(networkId)}/private-ips`, 'PrivateIps', m.privateIp);
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
    const a = await this.one(call, 'POST', `/servers/${enc(serverId)}/volume-attachments`, 'Attachment', m.attachment, { body: { VolumeId: volumeId } });
    return { serverId: a.ServerId, volumeId: a.VolumeId, device: a.Device };
  }

  async detachVolume(serverId: string, volumeId: string): Promise<void> {
    await this.api.request(`detach volume ${volumeId} from server ${serverId}`, 'DELETE', `/servers/${enc(serverId)}/volume-attachments/${enc(volumeId)}`, { query: this.region('detach a volume') });
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

  async createServer(input: HuayunServerInput): Promise<Server> {
    const call = `create server ${input.name}`;
    const body = {
      Name: input.name,
      FlavorId: input.flavorId ?? (await this.flavorFor(call, input)),
      Volumes: input.volumeIds,
      VpcId: input.networkId,
      SubnetId: input.subnetId,
      FixedIp: input.fixedIp,
      SecurityGroupId: input.securityGroupId,
      RouterId: input.routerId,
      BandwidthMbps: input.bandwidthMbps,
    };
    return m.toServer(await this.one(call, 'POST', '/servers', 'Server', m.server, { body }));
  }

  async getServer(id: string): Promise<Server> {
    return m.toServer(await this.one(`get server ${id}`, 'GET', `/servers/${enc(id)}`, 'Server', m.server));
  }

  /** Huayun boots only its own flavors: the one matching vcpus + ramMiB. */
  private async flavorFor(call: string, input: CreateServerInput): Promise<string> {
    if (!input.vcpus || !input.ramMiB) throw new CloudError('bad-request', this.cloud, call, 'give a flavor, or vCPUs and memory');
    const found = m.pickFlavor(await this.list('list flavors', '/flavors', 'Flavors', m.flavor), input.vcpus, input.ramMiB);
    if (!found) throw new CloudError('bad-request', this.cloud, call, `no flavor has ${input.vcpus} vCPUs and ${input.ramMiB} MiB of memory or more`);
    return found.FlavorId;
  }

  /** RegionId, which every call but /account and /regions carries. */
  private region(call: string): QueryValues {
    if (!this.settings.regionId) throw new CloudError('bad-request', this.cloud, call, 'the connection names no region (RegionId): choose one of its regions first');
    return { RegionId: this.settings.regionId };
  }

  private list<S extends z.ZodType>(call: string, path: string, key: string, item: S, query: QueryValues = {}) {
    return listAll(this.api, this.cloud, call, path, key, item, { ...this.region(call), ...query });
  }

  private one<S extends z.ZodType>(call: string, method: Method, path: string, key: string, schema: S, input: { query?: QueryValues; body?: unknown } = {}) {
    const query = path === '/account' ? input.query : { ...this.region(call), ...input.query };
    return fetchOne(this.api, this.cloud, call, method, path, key, schema, { ...input, query });
  }

  /** DELETE; what is already gone counts as deleted. */
  private async unlessGone(call: string, path: string): Promise<void> {
    try {
      await this.api.request(call, 'DELETE', path, { query: this.region(call) });
    } catch (err) {
      if (!(err instanceof CloudError && err.kind === 'not-found')) throw err;
    }
  }
}

const enc = encodeURIComponent;
