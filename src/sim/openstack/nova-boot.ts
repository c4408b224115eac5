import { randomBytes } from 'node:crypto';
import { ApiError, badRequest, conflict, forbidden } from './errors.js';
import { newId } from './ids.js';
import { ipToInt } from './ipam.js';
import { isObject, links, objectAt, parseBool, stringAt, type Json } from './input.js';
import { atLeast } from './microversion.js';
import { createPort, portWithAddress } from './neutron-ports.js';
import { findFlavor } from './nova-flavors.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';
import { AVAILABILITY_ZONE } from './seed.js';
import { DELAYS, type Flavor, type Server, type SimState, type Volume } from './state.js';
import { releaseServerResources } from './nova-lifecycle.js';

/** POST /servers: boot from volume(s) on Neutron ports; BUILD, then ACTIVE (or ERROR) a second later. */

export const novaBootRoutes: Route[] = [route('POST', '/v2.1/servers', bootServer)];

interface NetworkRequest {
  networkId?: string;
  fixedIp?: string;
  portId?: string;
}

interface BootVolume {
  volume: Volume;
  bootIndex?: number;
  deleteOnTermination: boolean;
}

function bootServer(req: SimRequest): Reply {
  const body = objectAt(req.body, 'server');
  if (!body) throw badRequest("Invalid input for field/attribute server. Value: None. 'server' is a required property");
  const name = body.name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 255) throw badRequest(`Invalid input for field/attribute name. Value: ${String(name)}. 'name' is a required property of 1 to 255 characters`);
  const flavorRef = body.flavorRef;
  if (typeof flavorRef !== 'string' && typeof flavorRef !== 'number') throw badRequest("Invalid input for field/attribute server. 'flavorRef' is a required property");
  const flavor = bootFlavor(req, String(flavorRef));
  const image = stringAt(body, 'imageRef');
  if (image) throw badRequest('Can not find requested image');
  const volumes = bootVolumes(req.state, body.block_device_mapping_v2);
  const networks = networkRequests(req, body.networks);
  const securityGroups = securityGroupNames(req.state, body.security_groups);
  const az = stringAt(body, 'availability_zone');
  if (az !== undefined && az.split(':')[0] !== AVAILABILITY_ZONE) throw badRequest('The requested availability zone is not available');
  checkComputeQuota(req.state, req.projectId, flavor);

  const server = newServer(req, name, flavor.id, securityGroups);
  try {
    for (const n of networks) attachPort(req, server, n);
  } catch (err) {
    releaseServerResources(req.state, server);
    throw err;
  }
  req.state.servers.set(server.id, server);
  for (const { volume, bootIndex, deleteOnTermination } of volumes) {
    volume.status = 'reserved';
    volume.updatedAt = new Date();
    volume.attachments.push({ id: newId(), serverId: server.id, device: req.state.volumeFile(volume.id), attachedAt: new Date(), deleteOnTermination, bootIndex });
  }
  req.state.later(DELAYS.serverBuild, () => finishBuild(req.state, server.id));
  const adminPass = randomBytes(9).toString('base64url');
  return {
    status: 202,
    body: { server: { id: server.id, links: links(req.root, 'servers', server.id), 'OS-DCF:diskConfig': 'MANUAL', security_groups: securityGroups.map((n) => ({ name: n })), adminPass } },
    headers: { Location: `${req.root}/servers/${server.id}` },
  };
}

function bootFlavor(req: SimRequest, ref: string): Flavor {
  const id = ref.split('/').pop() ?? ref;
  try {
    return findFlavor(req, id);
  } catch {
    throw badRequest(`Flavor ${id} could not be found.`);
  }
}

/** Volumes of block_device_mapping_v2 (source and destination `volume`); boot index 0 is required without an image. */
function bootVolumes(state: SimState, bdms: unknown): BootVolume[] {
  if (bdms === undefined) throw badRequest('Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.');
  if (!Array.isArray(bdms) || !bdms.every(isObject)) throw badRequest('Invalid input for field/attribute block_device_mapping_v2. Value must be a list of objects.');
  const result: BootVolume[] = [];
  for (const bdm of bdms as Json[]) {
    const source = stringAt(bdm, 'source_type');
    if (source === 'image') throw badRequest('Can not find requested image');
    if (source !== 'volume' || (bdm.destination_type ?? 'volume') !== 'volume') {
      throw badRequest(`Block Device Mapping is Invalid: the simulator boots only from existing volumes (source_type volume, destination_type volume), got source_type ${String(source)}.`);
    }
    const uuid = stringAt(bdm, 'uuid');
    const volume = uuid ? state.volumes.get(uuid) : undefined;
    if (!volume) throw badRequest(`Block Device Mapping is Invalid: failed to get volume ${String(bdm.uuid)}.`);
    if (result.some((r) => r.volume.id === volume.id)) throw badRequest(`Block Device Mapping is Invalid: Duplicate volume ${volume.id}.`);
    if (volume.status !== 'available') throw badRequest(`Invalid volume: volume '${volume.id}' status must be 'available'. Currently in '${volume.status}'`);
    const index = bdm.boot_index === undefined || bdm.boot_index === null || bdm.boot_index === 'none' ? undefined : Number(bdm.boot_index);
    result.push({ volume, bootIndex: Number.isInteger(index) && index! >= 0 ? index : undefined, deleteOnTermination: parseBool(bdm.delete_on_termination) ?? false });
  }
  if (!result.some((r) => r.bootIndex === 0)) throw badRequest('Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.');
  return result;
}

/** `networks`: a list of {uuid, fixed_ip} or {port}, or "auto"/"none"; required from 2.37. */
function networkRequests(req: SimRequest, networks: unknown): NetworkRequest[] {
  const { state } = req;
  if (networks === undefined && atLeast(req.version, 2, 37)) throw badRequest("Invalid input for field/attribute server. 'networks' is a required property");
  if (networks === 'none') return [];
  if (networks === undefined || networks === 'auto') {
    const candidates = [...state.networks.values()].filter((n) => !n.external);
    if (candidates.length > 1) throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
    return candidates.map((n) => ({ networkId: n.id }));
  }
  if (!Array.isArray(networks) || !networks.every(isObject)) throw badRequest(`Invalid input for field/attribute networks. Value: ${JSON.stringify(networks)}.`);
  return (networks as Json[]).map((n) => {
    const portId = stringAt(n, 'port');
    if (portId) {
      const port = state.ports.get(portId);
      if (!port) throw badRequest(`Port id ${portId} could not be found.`);
      if (port.deviceId) throw conflict(`Port ${portId} is still in use.`);
      return { portId };
    }
    const networkId = stringAt(n, 'uuid');
    if (!networkId || !state.networks.has(networkId)) throw badRequest(`Network ${String(networkId)} could not be found.`);
    const fixedIp = stringAt(n, 'fixed_ip');
    if (fixedIp !== undefined) {
      if (ipToInt(fixedIp) === undefined) throw badRequest(`Invalid input for field/attribute fixed_ip. Value: ${fixedIp}. '${fixedIp}' is not a 'ipv4'`);
      const holder = portWithAddress(state, networkId, fixedIp);
      if (holder) throw badRequest(`Fixed IP address ${fixedIp} is already in use on instance ${holder.deviceId || holder.id}.`);
    }
    return { networkId, fixedIp };
  });
}

function securityGroupNames(state: SimState, groups: unknown): string[] {
  if (groups === undefined) return ['default'];
  if (!Array.isArray(groups) || !groups.every(isObject)) throw badRequest(`Invalid input for field/attribute security_groups. Value: ${JSON.stringify(groups)}.`);
  return (groups as Json[]).map((g) => {
    const ref = stringAt(g, 'name');
    const group = [...state.securityGroups.values()].find((s) => s.name === ref || s.id === ref);
    if (!group) throw badRequest(`Security group ${String(ref)} not found.`);
    return group.name;
  });
}

function checkComputeQuota(state: SimState, projectId: string, flavor: Flavor): void {
  const quota = state.computeQuota;
  const used = state.computeUsage(projectId);
  const checks: [string, number, number, number][] = [
    ['instances', 1, used.instances, quota.instances],
    ['cores', flavor.vcpus, used.cores, quota.cores],
    ['ram', flavor.ramMiB, used.ramMiB, quota.ramMiB],
  ];
  for (const [resource, requested, inUse, limit] of checks) {
    if (limit >= 0 && inUse + requested > limit) {
      throw forbidden(`Quota exceeded for ${resource}: Requested ${requested}, but already used ${inUse} of ${limit} ${resource}`);
    }
  }
}

function newServer(req: SimRequest, name: string, flavorId: string, securityGroups: string[]): Server {
  const now = new Date();
  return {
    id: newId(),
    name,
    status: 'BUILD',
    vmState: 'building',
    taskState: 'scheduling',
    powerState: 0,
    flavorId,
    availabilityZone: AVAILABILITY_ZONE,
    portIds: [],
    securityGroups,
    metadata: {},
    instanceName: req.state.instanceName(),
    projectId: req.projectId,
    userId: req.token.userId,
    createdAt: now,
    updatedAt: now,
    launchedAt: null,
  };
}

function attachPort(req: SimRequest, server: Server, n: NetworkRequest): void {
  const { state } = req;
  if (n.portId) {
    const port = state.ports.get(n.portId)!;
    port.deviceId = server.id;
    port.deviceOwner = `compute:${AVAILABILITY_ZONE}`;
    port.updatedAt = new Date();
    server.portIds.push(port.id);
    return;
  }
  const groupIds = server.securityGroups.map((name) => [...state.securityGroups.values()].find((g) => g.name === name)!.id);
  try {
    const port = createPort(state, {
      networkId: n.networkId!,
      fixedIps: n.fixedIp ? [{ ip_address: n.fixedIp }] : undefined,
      deviceId: server.id,
      deviceOwner: `compute:${AVAILABILITY_ZONE}`,
      securityGroupIds: groupIds,
      projectId: server.projectId,
      ownedByServer: true,
    });
    server.portIds.push(port.id);
  } catch (err) {
    // Neutron's refusal, told the way Nova tells it
    if (err instanceof ApiError) throw badRequest(err.message);
    throw err;
  }
}

/** Why the build fails: the scheduler finds no host with room for the flavor, or a name asks for a failure. */
function buildFailure(state: SimState, server: Server): string | undefined {
  const capacity = state.options.hostVcpus;
  const vcpus = state.flavors.get(server.flavorId)?.vcpus ?? 0;
  if (capacity !== undefined && state.hostVcpusUsed(server.id) + vcpus > capacity) return 'No valid host was found. There are not enough hosts available.';
  if (server.name.includes('fail-boot')) return `Build of instance ${server.id} aborted: simulated boot failure (the server name contains "fail-boot").`;
  return undefined;
}

/** The compute host's verdict, a moment after the request. */
function finishBuild(state: SimState, id: string): void {
  const server = state.servers.get(id);
  if (!server || server.status !== 'BUILD') return;
  const now = new Date();
  server.updatedAt = now;
  server.taskState = null;
  const failure = buildFailure(state, server);
  if (failure) {
    server.status = 'ERROR';
    server.vmState = 'error';
    server.fault = { code: 500, created: now, message: failure };
    releaseServerResources(state, server);
    return;
  }
  server.status = 'ACTIVE';
  server.vmState = 'active';
  server.powerState = 1;
  server.launchedAt = now;
  for (const portId of server.portIds) {
    const port = state.ports.get(portId);
    if (port) port.status = 'ACTIVE';
  }
  for (const { volume } of state.serverVolumes(server.id)) {
    volume.status = 'in-use';
    volume.updatedAt = now;
  }
}
