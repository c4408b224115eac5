import { z } from 'zod';
import { CloudError, type Attachment, type CloudDriver, type CloudType, type CreateServerInput, type CreateVolumeInput, type DriverOptions, type Flavor, type NamedRef, type Network, type Quota, type Server, type Snapshot, type Storage, type Volume, type VolumeType } from '../cloud-driver.js';
import { fetchOne, listAll } from './answers.js';
import * as m from './models.js';
import { SignedApiClient, type Method, type QueryValues } from './signed-client.js';

/** A list call: what it does, its path and the answer's key. */
export interface ListCall {
  call: string;
  path: string;
  key: string;
}

/** Where the two AK/SK contracts part: shapes already mapped to Ferry's types, and paths. */
export interface SignedApiWire {
  flavor: z.ZodType<Flavor>;
  networks: ListCall & { item: z.ZodType<Network> };
  quota: z.ZodType<Quota>;
  server: z.ZodType<Server>;
  ipsInUse: (networkId: string) => ListCall;
  /** the path below /servers/{id} where volumes attach */
  attachments: string;
}

/** The CloudDriver of the AK/SK contracts (docs/clouds/huayun.md, docs/clouds/cloudultra.md); subclasses give what differs. */
export abstract class SignedApiDriver<I extends CreateServerInput = CreateServerInput> implements CloudDriver {
  abstract readonly type: CloudType;
  protected readonly api: SignedApiClient;
  protected readonly cloud: string;
  protected abstract readonly wire: SignedApiWire;

  constructor(options: DriverOptions, baseUrl: string, keys: { accessKey: string; secretKey: string }) {
    this.cloud = options.cloudName;
    this.api = new SignedApiClient({ cloud: this.cloud, baseUrl, accessKey: keys.accessKey, secretKey: keys.secretKey, timeoutMs: options.timeoutMs });
  }

  abstract verify(): Promise<void>;
  /** The query every call on the account's resources carries; a bad-request CloudError when the settings lack it. */
  protected abstract scope(call: string): QueryValues;
  /** The POST /servers body, or a bad-request CloudError. */
  protected abstract serverBody(call: string, input: I): Promise<Record<string, unknown>>;

  // a cloud without the notion lists none
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
    return [];
  }

  async flavors(): Promise<Flavor[]> {
    return this.list('list flavors', '/flavors', 'Flavors', this.wire.flavor);
  }

  async networks(): Promise<Network[]> {
    const { call, path, key, item } = this.wire.networks;
    return this.list(call, path, key, item);
  }

  async securityGroups(): Promise<NamedRef[]> {
    return (await this.list('list security groups', '/security-groups', 'SecurityGroups', m.securityGroup)).map(m.toSecurityGroup);
  }

  async volumeTypes(): Promise<VolumeType[]> {
    return (await this.list('list volume types', '/volume-types', 'VolumeTypes', m.volumeType)).map(m.toVolumeType);
  }

  async storages(): Promise<Storage[]> {
    return (await this.list('list storages', '/storages', 'Storages', m.storage)).map(m.toStorage);
  }

  async quota(): Promise<Quota> {
    return this.one('read the quota', 'GET', '/quota', 'Quota', this.wire.quota);
  }

  async serverNameTaken(name: string): Promise<boolean> {
    const servers = await this.list(`look for server ${name}`, '/servers', 'Servers', this.wire.server, { Name: name });
    return servers.some((s) => s.name === name && s.status !== 'DELETED');
  }

  async volumeNameTaken(name: string): Promise<boolean> {
    const volumes = await this.list(`look for volume ${name}`, '/volumes', 'Volumes', m.volume, { Name: name });
    return volumes.some((v) => v.Name === name);
  }

  async fixedIpsInUse(networkId: string): Promise<string[]> {
    const { call, path, key } = this.wire.ipsInUse(networkId);
    return (await this.list(call, path, key, m.ipInUse)).map((ip) => ip.Ip);
  }

  async createVolume(input: CreateVolumeInput): Promise<Volume> {
    const body = { Name: input.name, SizeGiB: input.sizeGiB, VolumeTypeId: input.volumeTypeId, Bootable: input.bootable ?? false };
    return m.toVolume(await this.one(`create volume ${input.name}`, 'POST', '/volumes', 'Volume', m.volume, { body }));
  }

  async getVolume(id: string): Promise<Volume> {
    return m.toVolume(await this.one(`get volume ${id}`, 'GET', `/volumes/${enc(id)}`, 'Volume', m.volume));
  }

  async findVolume(name: string): Promise<Volume | null> {
    const call = `find volume ${name}`;
    return onlyOne(this.cloud, call, 'volumes', name, (await this.list(call, '/volumes', 'Volumes', m.volume, { Name: name })).map(m.toVolume));
  }

  async deleteVolume(id: string): Promise<void> {
    await this.unlessGone(`delete volume ${id}`, `/volumes/${enc(id)}`);
  }

  async attachVolume(serverId: string, volumeId: string): Promise<Attachment> {
    const call = `attach volume ${volumeId} to server ${serverId}`;
    return m.toAttachment(await this.one(call, 'POST', `/servers/${enc(serverId)}/${this.wire.attachments}`, 'Attachment', m.attachment, { body: { VolumeId: volumeId } }));
  }

  async detachVolume(serverId: string, volumeId: string): Promise<void> {
    const call = `detach volume ${volumeId} from server ${serverId}`;
    await this.api.request(call, 'DELETE', `/servers/${enc(serverId)}/${this.wire.attachments}/${enc(volumeId)}`, { query: this.scope(call) });
  }

  async createSnapshot(volumeId: string, name: string): Promise<Snapshot> {
    return m.toSnapshot(await this.one(`create snapshot ${name} of volume ${volumeId}`, 'POST', '/snapshots', 'Snapshot', m.snapshot, { body: { VolumeId: volumeId, Name: name } }));
  }

  async getSnapshot(id: string): Promise<Snapshot> {
    return m.toSnapshot(await this.one(`get snapshot ${id}`, 'GET', `/snapshots/${enc(id)}`, 'Snapshot', m.snapshot));
  }

  async findSnapshot(name: string): Promise<Snapshot | null> {
    const call = `find snapshot ${name}`;
    return onlyOne(this.cloud, call, 'snapshots', name, (await this.list(call, '/snapshots', 'Snapshots', m.snapshot, { Name: name })).map(m.toSnapshot));
  }

  async deleteSnapshot(id: string): Promise<void> {
    await this.unlessGone(`delete snapshot ${id}`, `/snapshots/${enc(id)}`);
  }

  async createServer(input: I): Promise<Server> {
    const call = `create server ${input.name}`;
    return this.one(call, 'POST', '/servers', 'Server', this.wire.server, { body: await this.serverBody(call, input) });
  }

  async getServer(id: string): Promise<Server> {
    return this.one(`get server ${id}`, 'GET', `/servers/${enc(id)}`, 'Server', this.wire.server);
  }

  async findServer(name: string): Promise<Server | null> {
    const call = `find server ${name}`;
    const servers = await this.list(call, '/servers', 'Servers', this.wire.server, { Name: name });
    return onlyOne(this.cloud, call, 'servers', name, servers.filter((s) => s.status !== 'DELETED'));
  }

  /** The contracts delete synchronously (204): once answered, the server is gone and its volumes are available. */
  async deleteServer(id: string): Promise<void> {
    await this.unlessGone(`delete server ${id}`, `/servers/${enc(id)}`);
  }

  protected list<S extends z.ZodType>(call: string, path: string, key: string, item: S, query: QueryValues = {}) {
    return listAll(this.api, this.cloud, call, path, key, item, { ...this.scope(call), ...query });
  }

  protected one<S extends z.ZodType>(call: string, method: Method, path: string, key: string, schema: S, input: { body?: unknown } = {}) {
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

export const enc = encodeURIComponent;

/** The one item named exactly `name` (the `Name` filter is compared again), null when none; several are a conflict CloudError. */
function onlyOne<T extends NamedRef>(cloud: string, call: string, what: string, name: string, items: T[]): T | null {
  const named = items.filter((i) => i.name === name);
  if (named.length > 1) throw new CloudError('conflict', cloud, call, `${named.length} ${what} are named ${name}: ${named.map((i) => i.id).join(', ')}`);
  return named[0] ?? null;
}
