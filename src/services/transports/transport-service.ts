import { ForeignKeyConstraintViolationException, UniqueConstraintViolationException, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CloudConnection, StorageType, TransportServer, TransportServType } from '../../../entities/index.js';
import { TRANSPORT_EVENTS_PATH } from '../../config.js';
import type { TransportEvent, TransportInfo } from '../../transport/protocol.js';
import { TransportClient } from '../../transport/transport-client.js';
import type { ServiceDeps } from '../context.js';
import { fail, ok, type Result } from '../errors.js';
import { keysetPage, type Page, type PageRequest } from '../paging.js';
import { controllerId } from './controller-identity.js';
import { EventReceipts, type TransportEventHook } from './event-receipts.js';
import { checkInfo, checkPairing, infoColumns } from './transport-answers.js';
import { fromTransport, RESET_HINT } from './transport-errors.js';
import { checkAddress, checkName, checkServType, type TransportServerInput } from './transport-input.js';
import { usersOf } from './transport-users.js';
import { UUID } from '../../util/uuid.js';

/** What is shown of a transport server: everything but its pairing secret. */
export interface TransportView {
  id: string;
  /** the transport's own id, as its events carry it */
  transportId?: string;
  name: string;
  servType: TransportServType;
  cloudId?: string;
  cloudName?: string;
  mgntAddr: string;
  maxSupportedTasks: number;
  currentTasks: number;
  storageId?: string;
  storageType?: StorageType;
  protocolVersion?: string;
  offline: boolean;
  lastSeenAt?: Date;
  createdAt: Date;
}

export interface TransportFilter {
  /** part of MgntAddr */
  ip?: string;
  /** part of the name, in any case */
  name?: string;
  servType?: string;
  cloudId?: string;
}

const sealContext = (id: string) => `transport:${id}`;
/** how long a list waits for a transport's live load before showing the stored one */
const LIVE_TIMEOUT_MS = 2_000;
const contains = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;
/** the refusal of a step inside the add transaction, which rolls it back */
class Refusal extends Error {
  constructor(readonly result: Result<never>) {
    super('refused');
  }
}

/** Transport servers: pairing with them, what they report, and the events they deliver. */
export class TransportService {
  /** run for every new event a transport delivers, in the transaction recording it (for the task engine) */
  readonly onTransportEvent: TransportEventHook[] = [];
  private readonly receipts: EventReceipts;
  private controller?: Promise<string>;

  constructor(private readonly deps: ServiceDeps) {
    this.receipts = new EventReceipts(deps.orm);
  }

  /** The transport answers with our protocol and is free to pair; a registered one must still accept our signature. */
  async verify(mgntAddr: string): Promise<Result<null>> {
    const addr = checkAddress(mgntAddr);
    if (!addr.ok) return addr;
    const info = await this.readInfo(addr.value);
    if (!info.ok) return info;
    const stored = await this.deps.orm.em.fork().findOne(TransportServer, { mgntAddr: addr.value });
    if (!stored && info.value.paired) {
      return fail('CONFLICT', `transport at ${addr.value} is already paired with a controller (another one, or this Ferry before it was deleted here); to register it here, ${RESET_HINT}, then try again.`, 'MgntAddr');
    }
    if (!stored) return ok(null);
    const client = this.client(stored);
    if (!client.ok) return client;
    const signed = await fromTransport(addr.value, () => client.value.status(), 'MgntAddr');
    return signed.ok ? ok(null) : signed;
  }

  /** Registers a transport: checks it, pairs with it, and keeps its secret sealed. */
  async add(input: TransportServerInput): Promise<Result<TransportView>> {
    const servType = checkServType(input.servType);
    if (!servType.ok) return servType;
    const name = checkName(input.name);
    if (!name.ok) return name;
    const em = this.deps.orm.em.fork();
    const cloud = await this.cloudFor(em, servType.value, input.cloudId);
    if (!cloud.ok) return cloud;
    const addr = checkAddress(input.mgntAddr);
    if (!addr.ok) return addr;
    const mgntAddr = addr.value;
    const existing = await em.findOne(TransportServer, { mgntAddr });
    if (existing) return fail('CONFLICT', `A transport server at ${mgntAddr} is already registered ("${existing.name}").`, 'MgntAddr');
    const info = await this.readInfo(mgntAddr);
    if (!info.ok) return info;
    const [controller, callbackUrl] = [await this.controllerId(), this.callbackUrl()];
    let added: TransportServer;
    let client: TransportClient;
    try {
      [added, client] = await em.transactional(async (tx) => {
        // the row first: a concurrent add of the same address waits on its unique key, then fails
        const transport = tx.create(TransportServer, { name: name.value, servType: servType.value, cloud: cloud.value?.id, mgntAddr, ...infoColumns(info.value), lastSeenAt: new Date() });
        await tx.flush();
        const pairing = new TransportClient(mgntAddr);
        const answer = await fromTransport(mgntAddr, () => pairing.pair(controller, callbackUrl), 'MgntAddr');
        const checked = answer.ok ? checkPairing(mgntAddr, answer.value, 'MgntAddr') : answer;
        if (!checked.ok) throw new Refusal(checked);
        transport.transportId = checked.value.transportId;
        transport.pairingSecretSealed = this.deps.sealer.seal(checked.value.secret, sealContext(transport.id));
        await tx.flush();
        return [transport, pairing] as const;
      });
    } catch (err) {
      if (err instanceof Refusal) return err.result;
      if (err instanceof UniqueConstraintViolationException) {
        return fail('CONFLICT', /transport_id/.test(err.message) ? `The transport at ${mgntAddr} is already registered under another address.` : `A transport server at ${mgntAddr} is already registered.`, 'MgntAddr');
      }
      throw err;
    }
    // the first signed request confirms the pairing: from then on the transport refuses to pair again
    await client.status().catch((err) => this.deps.log.warn({ transport: added.id, mgntAddr, err: String(err) }, 'transport paired but not confirmed yet; a refresh confirms it'));
    this.warnIfUnreachableCallback(mgntAddr, callbackUrl);
    this.deps.log.info({ transport: added.id, name: added.name, mgntAddr, servType: added.servType, transportId: added.transportId }, 'transport server added');
    return ok(this.view(added, cloud.value?.name));
  }

  /** Reads the transport's report again, re-pairs it after a local reset, and points its events at Ferry. */
  async refresh(id: string): Promise<Result<TransportView>> {
    const em = this.deps.orm.em.fork();
    const transport = await this.find(em, id);
    if (!transport) return fail('NOT_FOUND', `There is no transport server ${id}.`, 'Id');
    const info = await this.readInfo(transport.mgntAddr, undefined);
    if (!info.ok) {
      transport.offline = true;
      await em.flush();
      return info;
    }
    if (!info.value.paired) {
      const [controller, callbackUrl] = [await this.controllerId(), this.callbackUrl()];
      const pairing = new TransportClient(transport.mgntAddr);
      const paired = await fromTransport(transport.mgntAddr, () => pairing.pair(controller, callbackUrl));
      const answer = paired.ok ? checkPairing(transport.mgntAddr, paired.value) : paired;
      if (!answer.ok) return answer;
      if (answer.value.transportId !== transport.transportId) this.deps.log.warn({ transport: id, was: transport.transportId, now: answer.value.transportId }, 'another transport now answers at this address');
      transport.transportId = answer.value.transportId;
      transport.pairingSecretSealed = this.deps.sealer.seal(answer.value.secret, sealContext(transport.id));
      await em.flush();
      this.deps.log.info({ transport: id, mgntAddr: transport.mgntAddr }, 'transport server paired again after a local reset');
    }
    const client = this.client(transport);
    if (!client.ok) return client;
    const pointed = await fromTransport(transport.mgntAddr, () => client.value.setCallback(this.callbackUrl()));
    if (!pointed.ok) return pointed;
    Object.assign(transport, infoColumns(info.value), { offline: false, lastSeenAt: new Date() });
    await em.flush();
    return ok(this.view(transport));
  }

  async update(id: string, name: string): Promise<Result<TransportView>> {
    const checked = checkName(name);
    if (!checked.ok) return checked;
    const em = this.deps.orm.em.fork();
    const transport = await this.find(em, id);
    if (!transport) return fail('NOT_FOUND', `There is no transport server ${id}.`, 'Id');
    transport.name = checked.value;
    await em.flush();
    this.deps.log.info({ transport: id, name: checked.value }, 'transport server renamed');
    return ok(this.view(transport));
  }

  /** Deletes a transport server nothing uses (source hosts, vSphere platforms, tasks). */
  async remove(id: string): Promise<Result<{ id: string; name: string }>> {
    const em = this.deps.orm.em.fork();
    const transport = await this.find(em, id);
    if (!transport) return fail('NOT_FOUND', `There is no transport server ${id}.`, 'Id');
    const users = await usersOf(em, id);
    const inUse = (phrase: string, count: number) => fail<never>('CONFLICT', `Transport server "${transport.name}" is still used by ${phrase}; delete ${count === 1 ? 'it' : 'them'} first.`, 'Id');
    if (users) return inUse(users.phrase, users.count);
    try {
      await em.remove(transport).flush();
    } catch (err) {
      if (err instanceof ForeignKeyConstraintViolationException) return inUse('something added meanwhile', 2);
      throw err;
    }
    this.deps.log.info({ transport: id, name: transport.name }, 'transport server deleted');
    return ok({ id, name: transport.name });
  }

  /** Transport servers, oldest first, with the load each reports now. */
  async list(filter: TransportFilter = {}): Promise<Result<TransportView[]>> {
    const where = this.where(filter);
    if (!where.ok) return where;
    const em = this.deps.orm.em.fork();
    const rows = await em.find(TransportServer, where.value, { populate: ['cloud'], orderBy: { createdAt: 'asc', id: 'asc' } });
    return ok(await this.withLiveLoad(em, rows));
  }

  /** A page of transport servers, oldest first, with the load each reports now; without `cloudName` (GraphQL batch-loads clouds). */
  async page(filter: TransportFilter, request: PageRequest): Promise<Result<Page<TransportView>>> {
    const where = this.where(filter);
    if (!where.ok) return where;
    const em = this.deps.orm.em.fork();
    const page = await keysetPage(em, TransportServer, where.value, request);
    if (!page.ok) return page;
    const rows = page.value.items.map((i) => i.node);
    const views = await this.withLiveLoad(em, rows);
    return ok({ ...page.value, items: page.value.items.map((i, n) => ({ cursor: i.cursor, node: views[n] })) });
  }

  /** A stored transport server, as last seen. */
  async get(id: string): Promise<Result<TransportView>> {
    const em = this.deps.orm.em.fork();
    const transport = await this.find(em, id);
    return transport ? ok(this.view(transport)) : fail('NOT_FOUND', `There is no transport server ${id}.`, 'Id');
  }

  /** Stored transport servers by id, as last seen, in one query (for batch loaders); unknown ids are absent. */
  async byIds(ids: readonly string[]): Promise<Map<string, TransportView>> {
    const wanted = ids.filter((id) => UUID.test(id));
    const rows = wanted.length ? await this.deps.orm.em.fork().find(TransportServer, { id: { $in: wanted } }) : [];
    return new Map(rows.map((t) => [t.id, this.view(t)]));
  }

  /** A client holding the pairing secret, for other services (hosts, tasks). */
  async clientOf(id: string): Promise<Result<TransportClient>> {
    const transport = await this.find(this.deps.orm.em.fork(), id);
    return transport ? this.client(transport) : fail('NOT_FOUND', `There is no transport server ${id}.`, 'Id');
  }

  // -- events transports deliver to Ferry's callback endpoint

  /** The pairing secret of the registered transport with this id (its own id, as events carry it). */
  async secretForTransport(transportId: string): Promise<string | undefined> {
    if (transportId.length > 64) return undefined;
    const transport = await this.deps.orm.em.fork().findOne(TransportServer, { transportId });
    return transport?.pairingSecretSealed ? this.deps.sealer.open(transport.pairingSecretSealed, sealContext(transport.id)) : undefined;
  }

  eventSeen(eventId: string): Promise<boolean> {
    return this.receipts.seen(eventId);
  }

  /** Records a new event (the transport is online) and runs the `onTransportEvent` hooks. */
  acceptEvent(event: TransportEvent): Promise<void> {
    return this.receipts.record(event, this.onTransportEvent);
  }

  sweepEventReceipts(): Promise<number> {
    return this.receipts.sweep();
  }

  /** Where transports send their events: FERRY_CALLBACK_URL, or this process's own URL. */
  callbackUrl(): string {
    return this.deps.config.callbackUrl ?? `${this.deps.selfUrl()}${TRANSPORT_EVENTS_PATH}`;
  }

  // -- helpers

  /** A stored transport server; an id that is not a UUID names none (and never reaches SQL). */
  private find(em: EntityManager, id: string): Promise<TransportServer | null> {
    return UUID.test(id) ? em.findOne(TransportServer, { id }, { populate: ['cloud'] }) : Promise.resolve(null);
  }

  private client(transport: TransportServer): Result<TransportClient> {
    if (!transport.pairingSecretSealed) return fail('CONFLICT', `Transport server "${transport.name}" was never paired with Ferry; delete it and add it again.`, 'Id');
    return ok(new TransportClient(transport.mgntAddr, this.deps.sealer.open(transport.pairingSecretSealed, sealContext(transport.id))));
  }

  /** `GET /v1/info`, checked; a refusal names `field` (the address input, when the caller gave one). */
  private async readInfo(mgntAddr: string, field: string | undefined = 'MgntAddr', timeoutMs?: number): Promise<Result<TransportInfo>> {
    const info = await fromTransport(mgntAddr, () => new TransportClient(mgntAddr).info(timeoutMs), field);
    return info.ok ? checkInfo(mgntAddr, info.value, field) : info;
  }

  /** Asks every transport for its load at once; one silent for 2 s shows what was stored, marked offline. */
  private async withLiveLoad(em: EntityManager, rows: TransportServer[]): Promise<TransportView[]> {
    const answers = await Promise.all(rows.map((t) => this.readInfo(t.mgntAddr, undefined, LIVE_TIMEOUT_MS)));
    const now = new Date();
    rows.forEach((t, i) => {
      const answer = answers[i];
      Object.assign(t, answer.ok ? { currentTasks: answer.value.currentTasks, maxSupportedTasks: answer.value.maxSupportedTasks, offline: false, lastSeenAt: now } : { offline: true });
    });
    await em.flush();
    return rows.map((t) => this.view(t));
  }

  private where(filter: TransportFilter): Result<FilterQuery<TransportServer>> {
    const servType = filter.servType ? checkServType(filter.servType) : undefined;
    if (servType && !servType.ok) return servType;
    if (filter.cloudId !== undefined && !UUID.test(filter.cloudId)) return ok({ id: null });
    return ok({
      ...(filter.ip ? { mgntAddr: { $ilike: contains(filter.ip) } } : {}),
      ...(filter.name ? { name: { $ilike: contains(filter.name) } } : {}),
      ...(servType ? { servType: servType.value } : {}),
      ...(filter.cloudId ? { cloud: filter.cloudId } : {}),
    });
  }

  /** The cloud a transport runs in: required for Cloud, refused for On-Premises. */
  private async cloudFor(em: EntityManager, servType: TransportServType, cloudId?: string | null): Promise<Result<CloudConnection | undefined>> {
    const given = cloudId?.trim() || undefined;
    if (servType === TransportServType.OnPremises) {
      return given ? fail('INVALID_INPUT', `CloudId must be empty for an On-Premises transport server (got "${given.slice(0, 64)}").`, 'CloudId') : ok(undefined);
    }
    if (!given) return fail('INVALID_INPUT', 'CloudId is required for a Cloud transport server: the cloud connection it runs in.', 'CloudId');
    const cloud = UUID.test(given) ? await em.findOne(CloudConnection, { id: given }) : null;
    return cloud ? ok(cloud) : fail('NOT_FOUND', `CloudId names no cloud connection (got "${given.slice(0, 64)}").`, 'CloudId');
  }

  private async controllerId(): Promise<string> {
    this.controller ??= controllerId(this.deps.orm.em.fork()).catch((err) => {
      this.controller = undefined;
      throw err;
    });
    return this.controller;
  }

  /** A loopback callback URL cannot be reached from another machine: say so where it is set. */
  private warnIfUnreachableCallback(mgntAddr: string, callbackUrl: string): void {
    const loopback = (host: string) => /^(127\.|localhost$|\[?::1\]?$)/i.test(host);
    const transportHost = mgntAddr.replace(/:\d+$/, '');
    if (loopback(new URL(callbackUrl).hostname) && !loopback(transportHost)) {
      this.deps.log.warn({ mgntAddr, callbackUrl }, 'the transport is on another machine but its events go to a loopback URL: set FERRY_CALLBACK_URL');
    }
  }

  private view(t: TransportServer, cloudName = t.cloud?.unwrap().name): TransportView {
    return {
      id: t.id,
      transportId: t.transportId,
      name: t.name,
      servType: t.servType,
      cloudId: t.cloud?.id,
      cloudName,
      mgntAddr: t.mgntAddr,
      maxSupportedTasks: t.maxSupportedTasks,
      currentTasks: t.currentTasks,
      storageId: t.storageId,
      storageType: t.storageType,
      protocolVersion: t.protocolVersion,
      offline: t.offline,
      lastSeenAt: t.lastSeenAt,
      createdAt: t.createdAt,
    };
  }
}
