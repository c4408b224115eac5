import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CloudConnection, CloudType as StoredCloudType, TransportServer } from '../../../entities/index.js';
import { CLOUD_TYPES, createCloudDriver, type CloudDriver, type CloudDriverFactory, type CloudType, type Flavor, type NamedRef, type Network, type Quota, type Storage, type VolumeType } from '../../drivers/cloud/index.js';
import type { ServiceDeps } from '../context.js';
import { fail, ok, type Result } from '../errors.js';
import { keysetPage, type Page, type PageRequest } from '../paging.js';
import { fromCloud } from './cloud-errors.js';
import { checkName, toDriverSettings, type CloudConnectionInput } from './cloud-input.js';
import { UUID } from '../../util/uuid.js';

/** What is shown of a stored connection: everything but the secret. */
export interface CloudView {
  id: string;
  name: string;
  type: CloudType;
  projectName?: string;
  domain: string;
  user: string;
  protocol: string;
  port: string;
  address: string;
  ownerId?: string;
  environmentId?: string;
  zoneId?: string;
  zoneName?: string;
  regionId?: string;
  regionName?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The mask shown where the legacy API returned the password (in base64, i.e. in clear). */
export const MASKED_SECRET = '******';

const sealContext = (id: string) => `cloud:${id}`;
const DRIVER_TIMEOUT_MS = 15_000;

/** Connections whose name contains `text`, case-insensitively (LIKE wildcards taken literally). */
const nameContains = (text?: string) => (text ? { name: { $ilike: `%${text.replace(/[\\%_]/g, '\\$&')}%` } } : {});

/** Cloud connections: their validation, stored credentials, and the cloud's own look-ups. */
export class CloudService {
  /** drivers by connection id, kept while the connection is unchanged so tokens are reused */
  private readonly drivers = new Map<string, { version: number; driver: CloudDriver }>();

  constructor(
    private readonly deps: ServiceDeps,
    private readonly makeDriver: CloudDriverFactory = createCloudDriver,
  ) {}

  types(): CloudType[] {
    return [...CLOUD_TYPES];
  }

  /** Checks credentials without storing anything. */
  async verify(input: CloudConnectionInput): Promise<Result<null>> {
    const driver = this.adHocDriver(input);
    if (!driver.ok) return driver;
    return fromCloud(async () => {
      await driver.value.verify();
      return null;
    });
  }

  async add(input: CloudConnectionInput): Promise<Result<CloudView>> {
    const name = checkName(input.name);
    if (!name.ok) return name;
    const driver = this.adHocDriver(input);
    if (!driver.ok) return driver;
    const em = this.deps.orm.em.fork();
    if (await em.count(CloudConnection, { name: input.name })) return fail('CONFLICT', `A cloud connection named "${input.name}" already exists.`, 'CloudName');
    const verified = await this.verifyDriver(driver.value);
    if (!verified.ok) return verified;
    const cloud = em.create(CloudConnection, { ...this.columns(input), cloudPassSealed: '' });
    cloud.cloudPassSealed = this.deps.sealer.seal(input.password, sealContext(cloud.id));
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) return fail('CONFLICT', `A cloud connection named "${input.name}" already exists.`, 'CloudName');
      throw err;
    }
    this.deps.log.info({ cloud: cloud.id, name: cloud.name, type: cloud.cloudType }, 'cloud connection added');
    return ok(this.view(cloud));
  }

  /** Changes a connection; absent fields keep their value, and new credentials are verified first. */
  async update(id: string, patch: Partial<CloudConnectionInput>): Promise<Result<CloudView>> {
    const em = this.deps.orm.em.fork();
    const cloud = await this.find(em, id);
    if (!cloud) return fail('NOT_FOUND', `There is no cloud connection ${id}.`, 'Id');
    if (patch.type && patch.type.toLowerCase() !== cloud.cloudType.toLowerCase()) return fail('INVALID_INPUT', 'CloudType cannot change; add a new connection instead.', 'CloudType');
    const current = this.inputOf(cloud);
    const merged: CloudConnectionInput = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined && v !== '')) };
    const name = checkName(merged.name, 'Name');
    if (!name.ok) return name;
    if (merged.name !== cloud.name && (await em.count(CloudConnection, { name: merged.name }))) return fail('CONFLICT', `A cloud connection named "${merged.name}" already exists.`, 'Name');
    const driver = this.adHocDriver(merged);
    if (!driver.ok) return driver;
    const credentialsChanged = JSON.stringify({ ...current, name: '' }) !== JSON.stringify({ ...merged, name: '' });
    if (credentialsChanged) {
      const verified = await this.verifyDriver(driver.value);
      if (!verified.ok) return verified;
    }
    Object.assign(cloud, this.columns(merged), { cloudPassSealed: this.deps.sealer.seal(merged.password, sealContext(cloud.id)), updatedAt: new Date() });
    await em.flush();
    this.drivers.delete(id);
    this.deps.log.info({ cloud: id, name: cloud.name, credentialsChanged }, 'cloud connection updated');
    return ok(this.view(cloud));
  }

  /** Deletes a connection no transport server depends on. */
  async remove(id: string): Promise<Result<{ id: string; name: string }>> {
    const em = this.deps.orm.em.fork();
    const cloud = await this.find(em, id);
    if (!cloud) return fail('NOT_FOUND', `There is no cloud connection ${id}.`, 'Id');
    const transports = await em.find(TransportServer, { cloud: id }, { fields: ['name'], orderBy: { name: 'asc' } });
    if (transports.length) {
      const names = transports.map((t) => `"${t.name}"`).join(', ');
      return fail('CONFLICT', `Cloud connection "${cloud.name}" still has ${transports.length === 1 ? 'a transport server' : `${transports.length} transport servers`} (${names}); delete ${transports.length === 1 ? 'it' : 'them'} first.`, 'Id');
    }
    await em.remove(cloud).flush();
    this.drivers.delete(id);
    this.deps.log.info({ cloud: id, name: cloud.name }, 'cloud connection deleted');
    return ok({ id, name: cloud.name });
  }

  async list(filter: { name?: string } = {}): Promise<Result<CloudView[]>> {
    const where = nameContains(filter.name);
    const clouds = await this.deps.orm.em.fork().find(CloudConnection, where, { orderBy: { createdAt: 'asc', id: 'asc' } });
    return ok(clouds.map((c) => this.view(c)));
  }

  /** Stored connections by id, for batch loading; ids that are not UUIDs name none. */
  async byIds(ids: readonly string[]): Promise<Map<string, CloudView>> {
    const wanted = ids.filter((id) => UUID.test(id));
    const rows = wanted.length ? await this.deps.orm.em.fork().find(CloudConnection, { id: { $in: wanted } }) : [];
    return new Map(rows.map((c) => [c.id, this.view(c)]));
  }

  /** A page of connections, oldest first, optionally those whose name contains `name`. */
  async page(filter: { name?: string }, request: PageRequest): Promise<Result<Page<CloudView>>> {
    const where = nameContains(filter.name);
    const page = await keysetPage(this.deps.orm.em.fork(), CloudConnection, where, request);
    return page.ok ? ok({ ...page.value, items: page.value.items.map((i) => ({ cursor: i.cursor, node: this.view(i.node) })) }) : page;
  }

  async get(id: string): Promise<Result<CloudView>> {
    const cloud = await this.find(this.deps.orm.em.fork(), id);
    return cloud ? ok(this.view(cloud)) : fail('NOT_FOUND', `There is no cloud connection ${id}.`, 'Id');
  }

  // -- look-ups with credentials given in the call (the spec's ListProject, ListEnvironment, ListZone, ListRegion)

  projectsWith(input: CloudConnectionInput): Promise<Result<NamedRef[]>> {
    return this.adHoc(input, (d) => d.projects());
  }
  /** `hypervisorType` (KVM, VMWARE) keeps the environments whose name carries it, as the legacy UI expects. */
  environmentsWith(input: CloudConnectionInput, hypervisorType?: string): Promise<Result<NamedRef[]>> {
    const wanted = hypervisorType?.trim().toUpperCase();
    return this.adHoc(input, async (d) => (await d.environments()).filter((e) => !wanted || e.name.toUpperCase().includes(wanted)));
  }
  zonesWith(input: CloudConnectionInput): Promise<Result<NamedRef[]>> {
    return this.adHoc(input, (d) => d.zones());
  }
  regionsWith(input: CloudConnectionInput): Promise<Result<NamedRef[]>> {
    return this.adHoc(input, (d) => d.regions());
  }

  // -- look-ups of a stored connection

  flavors(id: string): Promise<Result<Flavor[]>> {
    return this.stored(id, (d) => d.flavors());
  }
  networks(id: string): Promise<Result<Network[]>> {
    return this.stored(id, (d) => d.networks());
  }
  securityGroups(id: string): Promise<Result<NamedRef[]>> {
    return this.stored(id, (d) => d.securityGroups());
  }
  volumeTypes(id: string): Promise<Result<VolumeType[]>> {
    return this.stored(id, (d) => d.volumeTypes());
  }
  storages(id: string): Promise<Result<Storage[]>> {
    return this.stored(id, (d) => d.storages());
  }
  quota(id: string): Promise<Result<Quota>> {
    return this.stored(id, (d) => d.quota());
  }

  /** The driver of a stored connection, for other services (transports, tasks). */
  async driverOf(id: string): Promise<Result<CloudDriver>> {
    const cloud = await this.find(this.deps.orm.em.fork(), id);
    if (!cloud) return fail('NOT_FOUND', `There is no cloud connection ${id}.`, 'Id');
    const version = cloud.updatedAt.getTime();
    const cached = this.drivers.get(id);
    if (cached?.version === version) return ok(cached.driver);
    const driver = this.adHocDriver(this.inputOf(cloud));
    if (driver.ok) this.drivers.set(id, { version, driver: driver.value });
    return driver;
  }

  /** A stored connection; an id that is not a UUID names none (and never reaches SQL). */
  private find(em: EntityManager, id: string): Promise<CloudConnection | null> {
    return UUID.test(id) ? em.findOne(CloudConnection, { id }) : Promise.resolve(null);
  }

  private async stored<T>(id: string, call: (driver: CloudDriver) => Promise<T>): Promise<Result<T>> {
    const driver = await this.driverOf(id);
    return driver.ok ? fromCloud(() => call(driver.value)) : driver;
  }

  private async adHoc<T>(input: CloudConnectionInput, call: (driver: CloudDriver) => Promise<T>): Promise<Result<T>> {
    const driver = this.adHocDriver(input);
    return driver.ok ? fromCloud(() => call(driver.value)) : driver;
  }

  private adHocDriver(input: CloudConnectionInput): Result<CloudDriver> {
    const checked = toDriverSettings(input);
    if (!checked.ok) return checked;
    return ok(this.makeDriver(checked.value.type, checked.value.settings, { cloudName: input.name || input.address, timeoutMs: DRIVER_TIMEOUT_MS }));
  }

  private verifyDriver(driver: CloudDriver): Promise<Result<null>> {
    return fromCloud(async () => {
      await driver.verify();
      return null;
    });
  }

  private columns(input: CloudConnectionInput): Omit<CloudConnection, 'id' | 'createdAt' | 'updatedAt' | 'cloudPassSealed'> {
    const type = toDriverSettings(input);
    return {
      name: input.name,
      cloudType: (type.ok ? type.value.type : input.type) as StoredCloudType,
      projectName: input.projectName || undefined,
      domain: input.domain || 'Default',
      cloudUser: input.user,
      identityProtocol: (input.protocol || 'http').toLowerCase(),
      identityPort: input.port || '5000',
      cloudAddr: input.address,
      ownerId: input.ownerId || undefined,
      environmentId: input.environmentId || undefined,
      zoneId: input.zoneId || undefined,
      zoneName: input.zoneName || undefined,
      regionId: input.regionId || undefined,
      regionName: input.regionName || undefined,
    };
  }

  private inputOf(cloud: CloudConnection): CloudConnectionInput {
    return {
      name: cloud.name,
      type: cloud.cloudType,
      projectName: cloud.projectName,
      user: cloud.cloudUser,
      password: this.deps.sealer.open(cloud.cloudPassSealed, sealContext(cloud.id)),
      protocol: cloud.identityProtocol,
      port: cloud.identityPort,
      address: cloud.cloudAddr,
      domain: cloud.domain,
      ownerId: cloud.ownerId,
      environmentId: cloud.environmentId,
      zoneId: cloud.zoneId,
      zoneName: cloud.zoneName,
      regionId: cloud.regionId,
      regionName: cloud.regionName,
    };
  }

  private view(c: CloudConnection): CloudView {
    return {
      id: c.id,
      name: c.name,
      type: c.cloudType as CloudType,
      projectName: c.projectName,
      domain: c.domain,
      user: c.cloudUser,
      protocol: c.identityProtocol,
      port: c.identityPort,
      address: c.cloudAddr,
      ownerId: c.ownerId,
      environmentId: c.environmentId,
      zoneId: c.zoneId,
      zoneName: c.zoneName,
      regionId: c.regionId,
      regionName: c.regionName,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    };
  }
}
