import { ForeignKeyConstraintViolationException, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { HostNetInterface, HostVolume, SourceHost, Task, TransportServer } from '../../../entities/index.js';
import type { HostFacts } from '../../transport/protocol.js';
import type { ServiceDeps } from '../context.js';
import { fail, ok, type Result } from '../errors.js';
import { keysetPage, type Page, type PageRequest } from '../paging.js';
import { fromTransport } from '../transports/transport-errors.js';
import type { TransportService } from '../transports/transport-service.js';
import { hostColumns } from './host-facts.js';
import { checkAgentAddress, checkHostName, UUID, type AgentHostInput } from './host-input.js';
import { groupBy } from '../../util/group-by.js';

export interface HostFilter {
  /** part of the name, in any case */
  name?: string;
  /** part of MgntAddr */
  mgntAddr?: string;
  /** only hosts no task uses */
  taskFree?: boolean;
}

const contains = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;
const MAX_NAMES = 10;

/** Agent ("Packer") hosts: what their agents report, read through a transport server. */
export class HostService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly transports: TransportService,
  ) {}

  /** Registers an agent host: its transport asks the agent for its facts, which are stored. */
  async add(input: AgentHostInput): Promise<Result<SourceHost>> {
    const name = checkHostName(input.name);
    if (!name.ok) return name;
    const transId = input.transId.trim();
    if (!UUID.test(transId)) return fail('NOT_FOUND', `TransId names no transport server (got "${transId.slice(0, 64)}").`, 'TransId');
    const addr = checkAgentAddress(input.mgntAddr);
    if (!addr.ok) return addr;
    const em = this.deps.orm.em.fork();
    const existing = await em.findOne(SourceHost, { agent: true, mgntAddr: addr.value });
    if (existing) return fail('CONFLICT', `An agent host at ${addr.value} is already registered ("${existing.name}").`, 'MgntAddr');
    const facts = await this.readFacts(transId, addr.value, 'MgntAddr', 'TransId');
    if (!facts.ok) return facts;
    const host = em.create(SourceHost, { name: name.value, agent: true, transport: transId, mgntAddr: addr.value, lastSeenAt: new Date(), refreshedAt: new Date() });
    this.apply(em, host, facts.value);
    await em.flush();
    this.deps.log.info({ host: host.id, name: host.name, mgntAddr: addr.value, transport: transId }, 'agent host added');
    return ok(host);
  }

  /** Reads the agent's facts again and replaces the stored disks and NICs; marks the host offline when it is silent. */
  async refresh(id: string): Promise<Result<SourceHost>> {
    const em = this.deps.orm.em.fork();
    const host = await this.find(em, id);
    if (!host) return this.notFound(id);
    const facts = await this.readFacts(host.transport!.id, host.mgntAddr!, undefined);
    if (!facts.ok) {
      host.offline = true;
      await em.flush();
      return facts;
    }
    await em.populate(host, ['volumes', 'netInterfaces']);
    host.volumes.removeAll();
    host.netInterfaces.removeAll();
    this.apply(em, host, facts.value);
    Object.assign(host, { offline: false, lastSeenAt: new Date(), refreshedAt: new Date() });
    await em.flush();
    return ok(host);
  }

  /** The host's transport reaches its agent (through `transAddr` when given: another registered transport). */
  async verify(hostId: string, transAddr?: string): Promise<Result<null>> {
    const em = this.deps.orm.em.fork();
    const host = await this.find(em, hostId, 'HostId');
    if (!host) return this.notFound(hostId, 'HostId');
    let transportId = host.transport!.id;
    if (transAddr?.trim()) {
      const wanted = transAddr.trim();
      const other = await em.findOne(TransportServer, { mgntAddr: { $in: [wanted, `${wanted}:7002`] } });
      if (!other) return fail('NOT_FOUND', `TransAddr names no registered transport server (got "${wanted.slice(0, 80)}").`, 'TransAddr');
      transportId = other.id;
    }
    const client = await this.transports.clientOf(transportId);
    if (!client.ok) return client;
    const answer = await this.agentCall(client.value.baseUrl.replace(/^https?:\/\//, ''), host.mgntAddr!, () => client.value.verifyAgent(host.mgntAddr!));
    return answer.ok ? ok(null) : answer;
  }

  async update(id: string, name: string): Promise<Result<SourceHost>> {
    const checked = checkHostName(name);
    if (!checked.ok) return checked;
    const em = this.deps.orm.em.fork();
    const host = await this.find(em, id);
    if (!host) return this.notFound(id);
    host.name = checked.value;
    await em.flush();
    this.deps.log.info({ host: id, name: checked.value }, 'agent host renamed');
    return ok(host);
  }

  /** Deletes a host no task uses. */
  async remove(id: string): Promise<Result<{ id: string; name: string }>> {
    const em = this.deps.orm.em.fork();
    const host = await this.find(em, id);
    if (!host) return this.notFound(id);
    const tasks = await em.find(Task, { sourceHost: id }, { fields: ['name'], orderBy: { name: 'asc' } });
    const inUse = (names: string) => fail<never>('CONFLICT', `Source host "${host.name}" is used by ${names}; delete the task${tasks.length === 1 ? '' : 's'} first.`, 'Id');
    if (tasks.length) {
      const shown = tasks.slice(0, MAX_NAMES).map((t) => `"${t.name}"`).join(', ');
      return inUse(`${tasks.length === 1 ? 'task' : `${tasks.length} tasks`} ${shown}${tasks.length > MAX_NAMES ? ', …' : ''}`);
    }
    try {
      await em.remove(host).flush();
    } catch (err) {
      if (err instanceof ForeignKeyConstraintViolationException) return inUse('a task added meanwhile');
      throw err;
    }
    this.deps.log.info({ host: id, name: host.name }, 'agent host deleted');
    return ok({ id, name: host.name });
  }

  /** Agent hosts, oldest first. */
  async list(filter: HostFilter = {}): Promise<Result<SourceHost[]>> {
    const em = this.deps.orm.em.fork();
    return ok(await em.find(SourceHost, await this.where(em, filter), { orderBy: { createdAt: 'asc', id: 'asc' } }));
  }

  /** A page of agent hosts, oldest first (keyset: creation time, then id). */
  async page(filter: HostFilter, request: PageRequest): Promise<Result<Page<SourceHost>>> {
    const em = this.deps.orm.em.fork();
    return keysetPage(em, SourceHost, await this.where(em, filter), request);
  }

  /** The volumes of each host, in one query (for batch loaders): host id → its volumes, by path. */
  async volumesOfHosts(hostIds: readonly string[]): Promise<Map<string, HostVolume[]>> {
    const rows = hostIds.length ? await this.deps.orm.em.fork().find(HostVolume, { host: { $in: [...hostIds] } }, { orderBy: { path: 'asc', id: 'asc' } }) : [];
    return groupBy(hostIds, rows, (v) => v.host.id);
  }

  /** The NICs of each host, in one query (for batch loaders): host id → its NICs, by name. */
  async netInterfacesOfHosts(hostIds: readonly string[]): Promise<Map<string, HostNetInterface[]>> {
    const rows = hostIds.length ? await this.deps.orm.em.fork().find(HostNetInterface, { host: { $in: [...hostIds] } }, { orderBy: { name: 'asc', mac: 'asc', id: 'asc' } }) : [];
    return groupBy(hostIds, rows, (n) => n.host.id);
  }

  /** Agent hosts by id, for batch loading; ids that are not UUIDs name none. */
  async byIds(ids: readonly string[]): Promise<Map<string, SourceHost>> {
    const wanted = ids.filter((id) => UUID.test(id));
    const rows = wanted.length ? await this.deps.orm.em.fork().find(SourceHost, { id: { $in: wanted } }) : [];
    return new Map(rows.map((h) => [h.id, h]));
  }

  /** The agent hosts of each transport server, in one query (for batch loaders), oldest first. */
  async hostsOfTransports(transportIds: readonly string[]): Promise<Map<string, SourceHost[]>> {
    const rows = transportIds.length ? await this.deps.orm.em.fork().find(SourceHost, { agent: true, transport: { $in: [...transportIds] } }, { orderBy: { createdAt: 'asc', id: 'asc' } }) : [];
    return groupBy(transportIds, rows, (h) => h.transport!.id);
  }

  /** One agent host with its transport, volumes and NICs. */
  async get(id: string): Promise<Result<{ host: SourceHost; inTask: boolean }>> {
    const em = this.deps.orm.em.fork();
    const host = await this.find(em, id);
    if (!host) return this.notFound(id);
    await em.populate(host, ['transport', 'volumes', 'netInterfaces']);
    const inTask = (await em.count(Task, { sourceHost: id })) > 0;
    return ok({ host, inTask });
  }

  /** The filter of agent hosts, for lists and pages. */
  async where(em: EntityManager, filter: HostFilter): Promise<FilterQuery<SourceHost>> {
    const busy = filter.taskFree ? (await em.find(Task, {}, { fields: ['sourceHost'] })).map((t) => t.sourceHost.id) : [];
    return {
      agent: true,
      ...(filter.name ? { name: { $ilike: contains(filter.name) } } : {}),
      ...(filter.mgntAddr ? { mgntAddr: { $ilike: contains(filter.mgntAddr) } } : {}),
      ...(busy.length ? { id: { $nin: busy } } : {}),
    };
  }

  /** Asks each agent host's transport whether its agent answers; sets `offline` and `lastSeenAt`. */
  async checkAgents(): Promise<number> {
    const em = this.deps.orm.em.fork();
    const hosts = await em.find(SourceHost, { agent: true, transport: { $ne: null } });
    const clients = new Map<string, Awaited<ReturnType<TransportService['clientOf']>>>();
    await Promise.all(
      hosts.map(async (host) => {
        const transportId = host.transport!.id;
        if (!clients.has(transportId)) clients.set(transportId, await this.transports.clientOf(transportId));
        const client = clients.get(transportId)!;
        const answered = client.ok && (await client.value.verifyAgent(host.mgntAddr!).then(() => true, () => false));
        if (answered) host.lastSeenAt = new Date();
        if (host.offline === answered) this.deps.log.info({ host: host.id, mgntAddr: host.mgntAddr }, answered ? 'agent host back online' : 'agent host offline');
        host.offline = !answered;
      }),
    );
    await em.flush();
    return hosts.length;
  }

  // -- helpers

  /** An agent host; an id that is not a UUID names none (and never reaches SQL). */
  private find(em: EntityManager, id: string, _field = 'Id'): Promise<SourceHost | null> {
    return UUID.test(id) ? em.findOne(SourceHost, { id, agent: true }) : Promise.resolve(null);
  }

  private notFound<T>(id: string, field = 'Id'): Result<T> {
    return fail('NOT_FOUND', `There is no agent host ${id.slice(0, 64)}.`, field);
  }

  /** The agent's facts, asked through the transport; a refusal names the agent's address. */
  private async readFacts(transId: string, agentAddr: string, field?: string, transportField?: string): Promise<Result<HostFacts>> {
    const client = await this.transports.clientOf(transId);
    if (!client.ok) return client.error.code === 'NOT_FOUND' ? fail('NOT_FOUND', `TransId names no transport server (got "${transId}").`, transportField ?? 'TransId') : client;
    return this.agentCall(client.value.baseUrl.replace(/^https?:\/\//, ''), agentAddr, () => client.value.agentFacts(agentAddr), field);
  }

  private async agentCall<T>(transportAddr: string, agentAddr: string, call: () => Promise<T>, field?: string): Promise<Result<T>> {
    const answer = await fromTransport(transportAddr, call, field);
    if (answer.ok) return answer;
    return fail('TRANSPORT_ERROR', `The agent at ${agentAddr} could not be reached: ${answer.error.message}`, field);
  }

  private apply(em: EntityManager, host: SourceHost, facts: HostFacts): void {
    const { volumes, netInterfaces, ...columns } = hostColumns(facts);
    Object.assign(host, columns);
    for (const v of volumes) host.volumes.add(em.create(HostVolume, { host, ...v }));
    for (const n of netInterfaces) host.netInterfaces.add(em.create(HostNetInterface, { host, ...n }));
  }
}
