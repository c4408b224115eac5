import { createHash } from 'node:crypto';
import { isoSeconds } from './ids.js';
import { links } from './input.js';
import { atLeast } from './microversion.js';
import type { SimRequest } from './router.js';
import type { Flavor, Server, SimState } from './state.js';

/** Nova v2.1 resources as the API shows them to an admin, by microversion. */

export const COMPUTE_HOST = 'sim-compute';

export function flavorView(req: SimRequest, f: Flavor) {
  return {
    id: f.id,
    name: f.name,
    ram: f.ramMiB,
    vcpus: f.vcpus,
    disk: f.diskGiB,
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeralGiB,
    'OS-FLV-DISABLED:disabled': false,
    swap: f.swapMiB === 0 && !atLeast(req.version, 2, 75) ? '' : f.swapMiB,
    rxtx_factor: f.rxtxFactor,
    'os-flavor-access:is_public': f.isPublic,
    links: links(req.root, 'flavors', f.id),
    ...(atLeast(req.version, 2, 55) && { description: f.description }),
    ...(atLeast(req.version, 2, 61) && { extra_specs: {} }),
  };
}

export const flavorSummary = (req: SimRequest, f: Flavor) => ({
  id: f.id,
  name: f.name,
  links: links(req.root, 'flavors', f.id),
  ...(atLeast(req.version, 2, 55) && { description: f.description }),
});

export const serverSummary = (req: SimRequest, s: Server) => ({ id: s.id, name: s.name, links: links(req.root, 'servers', s.id) });

/** Nova's hostId: an opaque hash of the project and the compute host, so users can tell servers that share a host. */
const hostId = (s: Server) => (s.status === 'BUILD' && !s.launchedAt ? '' : createHash('sha224').update(s.projectId + COMPUTE_HOST).digest('hex'));

/** network name → the server's fixed addresses on it */
export function serverAddresses(state: SimState, s: Server) {
  const addresses: Record<string, { version: number; addr: string; 'OS-EXT-IPS:type': string; 'OS-EXT-IPS-MAC:mac_addr': string }[]> = {};
  for (const portId of s.portIds) {
    const port = state.ports.get(portId);
    const network = port && state.networks.get(port.networkId);
    if (!port || !network) continue;
    for (const ip of port.fixedIps) {
      (addresses[network.name] ??= []).push({ version: 4, addr: ip.ip_address, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': port.macAddress });
    }
  }
  return addresses;
}

export function serverView(req: SimRequest, s: Server) {
  const { state, version } = req;
  const flavor = state.flavors.get(s.flavorId);
  const bookmark = (collection: string, id: string) => [links(req.root, collection, id)[1]];
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: { ...s.metadata },
    hostId: hostId(s),
    image: s.imageId ? { id: s.imageId, links: bookmark('images', s.imageId) } : '',
    flavor: atLeast(version, 2, 47)
      ? { vcpus: flavor?.vcpus, ram: flavor?.ramMiB, disk: flavor?.diskGiB, ephemeral: flavor?.ephemeralGiB ?? 0, swap: flavor?.swapMiB ?? 0, original_name: flavor?.name, extra_specs: {} }
      : { id: s.flavorId, links: bookmark('flavors', s.flavorId) },
    created: isoSeconds(s.createdAt),
    updated: isoSeconds(s.updatedAt),
    addresses: serverAddresses(state, s),
    accessIPv4: '',
    accessIPv6: '',
    links: links(req.root, 'servers', s.id),
    'OS-DCF:diskConfig': 'MANUAL',
    progress: 0,
    'OS-EXT-AZ:availability_zone': s.availabilityZone,
    config_drive: '',
    key_name: null,
    'OS-SRV-USG:launched_at': s.launchedAt && s.launchedAt.toISOString().replace('Z', '000'),
    'OS-SRV-USG:terminated_at': null,
    'OS-EXT-SRV-ATTR:host': s.launchedAt ? COMPUTE_HOST : null,
    'OS-EXT-SRV-ATTR:instance_name': s.instanceName,
    'OS-EXT-SRV-ATTR:hypervisor_hostname': s.launchedAt ? `${COMPUTE_HOST}.local` : null,
    'OS-EXT-STS:task_state': s.taskState,
    'OS-EXT-STS:vm_state': s.vmState,
    'OS-EXT-STS:power_state': s.powerState,
    'os-extended-volumes:volumes_attached': state
      .serverVolumes(s.id)
      .map(({ volume, attachment }) => ({ id: volume.id, ...(atLeast(version, 2, 3) && { delete_on_termination: attachment.deleteOnTermination }) })),
    security_groups: s.securityGroups.map((name) => ({ name })),
    ...(s.fault && { fault: { code: s.fault.code, created: isoSeconds(s.fault.created), message: s.fault.message } }),
    ...(atLeast(version, 2, 3) && {
      'OS-EXT-SRV-ATTR:hostname': s.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-'),
      'OS-EXT-SRV-ATTR:reservation_id': `r-${s.id.slice(0, 8)}`,
      'OS-EXT-SRV-ATTR:launch_index': 0,
      'OS-EXT-SRV-ATTR:kernel_id': '',
      'OS-EXT-SRV-ATTR:ramdisk_id': '',
      'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
    }),
    ...(atLeast(version, 2, 9) && { locked: false }),
    ...(atLeast(version, 2, 19) && { description: null }),
    ...(atLeast(version, 2, 26) && { tags: [] }),
    ...(atLeast(version, 2, 73) && { locked_reason: null }),
  };
}
