import { conflict, invalid, notFound } from './api-error.js';
import { allocateIp, allocatePublicIp } from './addresses.js';
import { later, nowIso, TIMINGS, type CloudState, type NetworkRec, type Scope, type ServerRec } from './cloud-state.js';
import { requireQuota } from './quota.js';
import { bind } from './volume-ops.js';

export interface NewServer {
  name: string;
  flavorId?: string;
  vcpus?: number;
  ramMiB?: number;
  sockets?: number;
  /** the first is the boot volume */
  volumeIds: string[];
  networkId: string;
  subnetId?: string;
  fixedIp?: string;
  securityGroupId?: string;
  routerId?: string;
  bandwidthMbps?: number;
}

/** A server in BUILD with its volumes attached; ACTIVE a moment later, or ERROR when its boot volume has no boot sector. */
export function createServer(state: CloudState, scope: Scope, input: NewServer): ServerRec {
  const { catalog } = scope;
  if (state.inScope(state.servers, scope).some((s) => s.name === input.name)) throw conflict(`a server named ${input.name} already exists`);
  const flavor = input.flavorId === undefined ? undefined : catalog.flavors.find((f) => f.id === input.flavorId);
  if (input.flavorId !== undefined && !flavor) throw notFound(`flavor ${input.flavorId} does not exist`);
  const vcpus = flavor?.vcpus ?? input.vcpus;
  const ramMiB = flavor?.ramMiB ?? input.ramMiB;
  if (!vcpus || !ramMiB) throw invalid('give a flavor, or vCPUs and memory');
  if (new Set(input.volumeIds).size !== input.volumeIds.length) throw invalid('a volume is listed twice');
  const volumes = input.volumeIds.map((id) => state.volume(scope, id));
  for (const v of volumes) if (v.status !== 'available') throw conflict(`volume ${v.id} is ${v.status}: only available volumes can boot a server`);
  if (!volumes[0].bootable) throw invalid(`the boot volume ${volumes[0].id} is not bootable`);
  const network = catalog.networks.find((n) => n.id === input.networkId);
  if (!network) throw notFound(`network ${input.networkId} does not exist`);
  const subnet = input.subnetId === undefined ? network.subnets[0] : network.subnets.find((s) => s.id === input.subnetId);
  if (!subnet) throw notFound(`subnet ${input.subnetId} does not exist in network ${network.id}`);
  if (input.securityGroupId !== undefined && !catalog.securityGroups.some((g) => g.id === input.securityGroupId)) throw notFound(`security group ${input.securityGroupId} does not exist`);
  checkRouter(scope, network, input);
  const ip = allocateIp(state, scope, network, subnet, input.fixedIp);
  const publicIp = input.bandwidthMbps ? allocatePublicIp(state) : undefined;
  requireQuota(state, scope.quotaKey, { instances: 1, cores: vcpus, ramMiB, ...(publicIp ? { publicIps: 1, bandwidthMbps: input.bandwidthMbps } : {}) });
  const server: ServerRec = {
    id: state.newId('server'),
    scope,
    name: input.name,
    status: 'BUILD',
    flavorId: flavor?.id,
    vcpus,
    sockets: input.sockets ?? 1,
    ramMiB,
    networkId: network.id,
    subnetId: subnet.id,
    ip,
    securityGroupId: input.securityGroupId ?? catalog.securityGroups[0]?.id,
    routerId: input.routerId,
    publicIp,
    bandwidthMbps: publicIp ? input.bandwidthMbps : undefined,
    bootVolumeId: volumes[0].id,
    createdAt: nowIso(),
  };
  state.servers.set(server.id, server);
  for (const v of volumes) bind(v, server);
  later(TIMINGS.serverBootMs, () => boot(state, server));
  return server;
}

/** A public IP needs a router of the server's network with an external gateway. */
function checkRouter(scope: Scope, network: NetworkRec, input: NewServer): void {
  if (input.routerId === undefined) {
    if (input.bandwidthMbps) throw invalid('a public IP (BandwidthMbps) needs a RouterId');
    return;
  }
  const router = scope.catalog.routers.find((r) => r.id === input.routerId);
  if (!router) throw notFound(`router ${input.routerId} does not exist`);
  if (router.networkId !== network.id) throw invalid(`router ${router.id} belongs to another VPC (${router.networkId})`);
  if (input.bandwidthMbps && !router.externalGateway) throw invalid(`router ${router.id} has no external gateway: it cannot carry a public IP`);
}

async function boot(state: CloudState, server: ServerRec): Promise<void> {
  if (server.status !== 'BUILD' || !state.servers.has(server.id)) return;
  const bootable = await state.files.hasBootSector(server.bootVolumeId).catch(() => false);
  if (bootable) server.status = 'ACTIVE';
  else {
    server.status = 'ERROR';
    server.fault = { code: 'NoBootableDevice', message: `no bootable device: volume ${server.bootVolumeId} has no boot sector` };
  }
}

/** Deletes a server at once; its volumes stay, detached and available; its addresses are freed. */
export function deleteServer(state: CloudState, scope: Scope, id: string): void {
  const server = state.server(scope, id);
  for (const v of state.volumesOf(server)) {
    v.attachment = undefined;
    v.status = 'available';
  }
  state.servers.delete(id);
}

/** An ACTIVE server with its boot volume, for the simulator's seed (the transport). */
export async function seedServer(state: CloudState, scope: Scope, input: { name: string; flavorId: string; networkId: string; ip: string; bootGiB: number }): Promise<ServerRec> {
  const flavor = scope.catalog.flavors.find((f) => f.id === input.flavorId)!;
  const network = scope.catalog.networks.find((n) => n.id === input.networkId)!;
  const subnet = network.subnets[0];
  const volumeId = state.newId('volume');
  const file = await state.files.create(volumeId, input.bootGiB);
  const createdAt = nowIso();
  const server: ServerRec = {
    id: state.newId('server'),
    scope,
    name: input.name,
    status: 'ACTIVE',
    flavorId: flavor.id,
    vcpus: flavor.vcpus,
    sockets: 1,
    ramMiB: flavor.ramMiB,
    networkId: network.id,
    subnetId: subnet.id,
    ip: allocateIp(state, scope, network, subnet, input.ip),
    securityGroupId: scope.catalog.securityGroups[0]?.id,
    bootVolumeId: volumeId,
    createdAt,
  };
  state.servers.set(server.id, server);
  const volume = { id: volumeId, scope, name: `${input.name}-system`, sizeGiB: input.bootGiB, status: 'available' as const, volumeTypeId: scope.catalog.volumeTypes[0]?.id, bootable: true, file, createdAt };
  state.volumes.set(volumeId, volume);
  bind(volume, server);
  return server;
}
