import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { SourceHost, Task, TransportServer, VspherePlatform } from '../../../entities/index.js';
import { readInventory, type Inventory, type InventoryVm } from '../../drivers/vsphere/inventory.js';
import { probeTls } from '../../util/tls-peer.js';
import { sdkUrl, VimSession, type VimOptions } from '../../drivers/vsphere/vim-session.js';
import { VSphereError } from '../../drivers/vsphere/vsphere-error.js';
import type { ServiceDeps } from '../context.js';
import { fail, ok, type Result } from '../errors.js';
import { UUID } from '../hosts/host-input.js';
import type { TransportService } from '../transports/transport-service.js';
import { syncInventory, type SyncReport } from './inventory-sync.js';
import { readTree, type TreePlatform } from './vsphere-tree.js';
import { checkAddress, checkCredentials, checkPlatformName, checkThumbprint, checkTransId, type VSPlatformInput } from './vsphere-input.js';
import { fromVSphere, vsphereFailure } from './vsphere-errors.js';
import { platformSessionOptions, sealContext } from './platform-session.js';
import { transportReaches } from './transport-reach.js';


/** VMs that share a BIOS UUID (clones): shown to the user, told apart by instanceUuid. */
export interface SharedUuidVm {
  name: string;
  esxiHost: string;
  uuid: string;
}

export interface PlatformAdded {
  platform: VspherePlatform;
  report: SyncReport;
  sharedUuids: SharedUuidVm[];
}

/**
 * vSphere platforms (vCenter or ESXi): their inventory is read through vim25 and stored as a
 * tree; their VMs are source hosts without an agent.
 */
export class VSphereService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly transports: TransportService,
  ) {}

  /** Logs in, reads the whole inventory and stores it; VMs sharing a BIOS UUID are listed in the answer. */
  async add(input: VSPlatformInput): Promise<Result<PlatformAdded>> {
    const checked = this.check(input);
    if (!checked.ok) return checked;
    const { name, address, userName, passwd, transId, thumbprint } = checked.value;
    const em = this.deps.orm.em.fork();
    const transport = await em.findOne(TransportServer, { id: transId });
    if (!transport) return fail('NOT_FOUND', `TransId names no transport server (got "${transId}").`, 'TransId');
    const same = await em.findOne(VspherePlatform, { ip: address });
    if (same) return fail('CONFLICT', `The platform at ${address} is already added ("${same.name}").`, 'Ip');
    const pin = await this.pinFor(address, thumbprint);
    if (!pin.ok) return pin;
    // the transport will read the VMs' disks from there: it must reach it, and see the same certificate
    const reached = await transportReaches(this.transports, transport, address, pin.value);
    if (!reached.ok) return { ok: false, error: { ...reached.error, field: 'TransId' } };
    const read = await this.readAll({ address, userName, password: passwd, pinnedSha256: pin.value });
    if (!read.ok) return read;
    const { inventory } = read.value;
    if (inventory.about.instanceUuid && (await em.count(VspherePlatform, { instanceUuid: inventory.about.instanceUuid }))) {
      return fail('CONFLICT', `This vCenter (instance ${inventory.about.instanceUuid}) is already added under another address.`, 'Ip');
    }
    const added = await em.transactional(async (tx) => {
      const platform = tx.create(VspherePlatform, {
        name,
        ip: address,
        userName,
        passwdSealed: '',
        transport: transId,
        isVcenter: inventory.about.apiType === 'VirtualCenter',
        instanceUuid: inventory.about.instanceUuid || null,
        certThumbprint: pin.value ?? null,
      });
      platform.passwdSealed = this.deps.sealer.seal(passwd, sealContext(platform.id));
      const report = await syncInventory(tx, platform, inventory);
      return { platform, report };
    });
    this.deps.log.info({ platform: added.platform.id, name, address, vms: added.report.vms }, 'vSphere platform added');
    return ok({ ...added, sharedUuids: sharedUuids(inventory) });
  }

  /** Reads the inventory again and applies the difference (see syncInventory). */
  async refresh(id: string): Promise<Result<{ platform: VspherePlatform; report: SyncReport; sharedUuids: SharedUuidVm[] }>> {
    const em = this.deps.orm.em.fork();
    const platform = await this.find(em, id);
    if (!platform) return this.notFound(id);
    const read = await this.readAll(this.sessionOptions(platform));
    if (!read.ok) return read;
    const report = await em.transactional(async (tx) => {
      const locked = await tx.findOneOrFail(VspherePlatform, platform.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
      return syncInventory(tx, locked, read.value.inventory);
    });
    this.deps.log.info({ platform: id, ...summary(report) }, 'vSphere platform refreshed');
    return ok({ platform, report, sharedUuids: sharedUuids(read.value.inventory) });
  }

  /** Changes name, credentials, transport or the accepted certificate; credentials are tried before they are kept. */
  async update(id: string, input: Partial<VSPlatformInput>): Promise<Result<VspherePlatform>> {
    const em = this.deps.orm.em.fork();
    const platform = await this.find(em, id);
    if (!platform) return this.notFound(id);
    if (input.name !== undefined && input.name !== '') {
      const name = checkPlatformName(input.name);
      if (!name.ok) return name;
      platform.name = name.value;
    }
    if (input.transId !== undefined && input.transId !== '') {
      const transId = checkTransId(input.transId);
      if (!transId.ok) return transId;
      if (!(await em.count(TransportServer, { id: transId.value }))) return fail('NOT_FOUND', `TransId names no transport server (got "${transId.value}").`, 'TransId');
      platform.transport = em.getReference(TransportServer, transId.value) as never;
    }
    const thumbprint = checkThumbprint(input.certThumbprint);
    if (!thumbprint.ok) return thumbprint;
    const credentialsChange = Boolean(input.userName || input.passwd);
    if (credentialsChange || thumbprint.value) {
      const current = this.sessionOptions(platform);
      const creds = checkCredentials(input.userName || platform.userName, input.passwd || current.password);
      if (!creds.ok) return creds;
      const pin = thumbprint.value ? await this.pinFor(platform.ip, thumbprint.value) : ok(platform.certThumbprint ?? undefined);
      if (!pin.ok) return pin;
      const tried = await this.tryLogin({ address: platform.ip, userName: creds.value.userName, password: creds.value.passwd, pinnedSha256: pin.value });
      if (!tried.ok) return tried;
      platform.userName = creds.value.userName;
      platform.passwdSealed = this.deps.sealer.seal(creds.value.passwd, sealContext(platform.id));
      platform.certThumbprint = pin.value ?? undefined;
    }
    await em.flush();
    return ok(platform);
  }

  /** Deletes the platform and its tree; refused while one of its VMs is in a task. */
  async remove(id: string): Promise<Result<{ id: string; name: string }>> {
    const em = this.deps.orm.em.fork();
    const platform = await this.find(em, id);
    if (!platform) return this.notFound(id);
    const tasks = await em.find(Task, { sourceHost: { platform } }, { fields: ['name'], orderBy: { name: 'asc' }, limit: 10 });
    if (tasks.length) return fail('CONFLICT', `VMs of platform "${platform.name}" are in tasks (${tasks.map((t) => `"${t.name}"`).join(', ')}): delete those tasks first.`, 'ID');
    await em.nativeDelete(SourceHost, { platform });
    await em.removeAndFlush(platform);
    this.deps.log.info({ platform: id }, 'vSphere platform deleted');
    return ok({ id, name: platform.name });
  }

  /**
   * Checks the platform from both ends: the transport (the one at `transAddr`, else the platform's
   * own) reaches its address and is shown the recorded certificate, and Ferry logs in with the
   * stored credentials.
   */
  async verify(id: string, transAddr?: string): Promise<Result<VspherePlatform>> {
    const em = this.deps.orm.em.fork();
    const platform = await this.find(em, id);
    if (!platform) return this.notFound(id, 'VSPlatformID');
    const wanted = transAddr?.trim();
    const transport = wanted ? await em.findOne(TransportServer, { mgntAddr: wanted }) : platform.transport ? await em.findOne(TransportServer, { id: platform.transport.id }) : null;
    if (wanted && !transport) return fail('NOT_FOUND', `No registered transport server has the address ${wanted}.`, 'TransAddr');
    if (transport) {
      const reached = await transportReaches(this.transports, transport, platform.ip, platform.certThumbprint ?? undefined);
      if (!reached.ok) return reached;
    }
    const tried = await this.tryLogin(this.sessionOptions(platform));
    return tried.ok ? ok(platform) : tried;
  }

  async list(): Promise<VspherePlatform[]> {
    return this.deps.orm.em.fork().find(VspherePlatform, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** Every platform's tree, VMs with their disks and NICs (ListVSHosts). */
  async tree(): Promise<Result<TreePlatform[]>> {
    return ok(await readTree(this.deps.orm.em.fork()));
  }

  async get(id: string): Promise<Result<VspherePlatform>> {
    const platform = await this.find(this.deps.orm.em.fork(), id);
    return platform ? ok(platform) : this.notFound(id);
  }

  private check(input: VSPlatformInput) {
    const name = checkPlatformName(input.name);
    if (!name.ok) return name;
    const address = checkAddress(input.ip);
    if (!address.ok) return address;
    const creds = checkCredentials(input.userName, input.passwd);
    if (!creds.ok) return creds;
    const transId = checkTransId(input.transId);
    if (!transId.ok) return transId;
    const thumbprint = checkThumbprint(input.certThumbprint);
    if (!thumbprint.ok) return thumbprint;
    return ok({ name: name.value, address: address.value, ...creds.value, transId: transId.value, thumbprint: thumbprint.value });
  }

  /**
   * The thumbprint to pin: none when an authority vouches for the certificate (or over http);
   * the one given, when the certificate has it; else the one seen now (trust on first use).
   */
  private async pinFor(address: string, wanted: string | undefined): Promise<Result<string | undefined>> {
    const url = sdkUrl(address);
    if (url.protocol !== 'https:') return ok(undefined);
    let seen;
    try {
      seen = await probeTls(url, 15_000);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return vsphereFailure(new VSphereError(e.name === 'TimeoutError' ? 'timeout' : 'unreachable', url.host, 'read the TLS certificate', `cannot reach ${url.host}: ${e.code ? `${e.code} (${e.message})` : e.message}`));
    }
    if (wanted && seen.sha256 !== wanted) return fail('VSPHERE_ERROR', `The certificate of ${url.host} has the SHA-256 thumbprint ${seen.sha256}, not ${wanted} as given.`, 'CertThumbprint');
    if (wanted) return ok(wanted);
    return ok(seen.trusted ? undefined : seen.sha256);
  }

  private async readAll(options: VimOptions): Promise<Result<{ inventory: Inventory }>> {
    return fromVSphere(() => VimSession.with(options, async (session) => ({ inventory: await readInventory(session) })));
  }

  private async tryLogin(options: VimOptions): Promise<Result<null>> {
    return fromVSphere(() => VimSession.with(options, async () => null));
  }

  private sessionOptions(platform: VspherePlatform): VimOptions {
    return platformSessionOptions(this.deps.sealer, platform);
  }

  private async find(em: EntityManager, id: string): Promise<VspherePlatform | null> {
    return UUID.test(id) ? em.findOne(VspherePlatform, { id }) : null;
  }

  private notFound<T>(id: string, field = 'ID'): Result<T> {
    return fail('NOT_FOUND', `No vSphere platform has the id "${String(id).slice(0, 64)}".`, field);
  }
}

/** Groups of two or more VMs with one config.uuid, each VM with its ESXi host's name. */
function sharedUuids(inv: Inventory): SharedUuidVm[] {
  const hostNames = new Map(inv.hosts.map((h) => [h.moref, h.name]));
  const byUuid = new Map<string, InventoryVm[]>();
  for (const vm of inv.vms) if (vm.uuid && !vm.template) byUuid.set(vm.uuid, [...(byUuid.get(vm.uuid) ?? []), vm]);
  return [...byUuid.values()].filter((g) => g.length > 1).flatMap((g) => g.map((vm) => ({ name: vm.name, esxiHost: vm.host ? hostNames.get(vm.host) ?? '' : '', uuid: vm.uuid })));
}

const summary = (r: SyncReport) => ({ vms: r.vms, added: r.added.length, removed: r.removed.length, flagged: r.flagged.length, renamed: r.renamed.length, moved: r.moved.length });
