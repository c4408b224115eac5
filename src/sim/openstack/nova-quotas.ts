import { atLeast } from './microversion.js';
import { quotaUpdate } from './quota-update.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';
import { AVAILABILITY_ZONE } from './seed.js';

/** Nova quotas and limits, and its availability zones. */

export const novaQuotaRoutes: Route[] = [
  route('GET', '/v2.1/os-quota-sets/:projectId', (req) => quotaSet(req, false)),
  route('PUT', '/v2.1/os-quota-sets/:projectId', updateQuota),
  route('GET', '/v2.1/os-quota-sets/:projectId/detail', (req) => quotaSet(req, true)),
  route('GET', '/v2.1/os-quota-sets/:projectId/defaults', (req) => ({ status: 200, body: { quota_set: { id: req.params.projectId, ...limits(req) } } })),
  route('GET', '/v2.1/limits', showLimits),
  route('GET', '/v2.1/os-availability-zone', () => ({ status: 200, body: { availabilityZoneInfo: [{ zoneName: AVAILABILITY_ZONE, zoneState: { available: true }, hosts: null }] } })),
];

/** The quota keys of the microversion (2.36 dropped the network proxies, 2.57 the injected files). */
function limits(req: SimRequest): Record<string, number> {
  const q = req.state.computeQuota;
  return {
    cores: q.cores,
    ram: q.ramMiB,
    instances: q.instances,
    key_pairs: 100,
    metadata_items: 128,
    server_groups: 10,
    server_group_members: 10,
    ...(!atLeast(req.version, 2, 36) && { fixed_ips: -1, floating_ips: -1, security_group_rules: -1, security_groups: -1 }),
    ...(!atLeast(req.version, 2, 57) && { injected_file_content_bytes: 10240, injected_file_path_bytes: 255, injected_files: 5 }),
  };
}

/** Sets cores, ram and instances (the other keys are accepted and left as they are). */
function updateQuota(req: SimRequest): Reply {
  const used = req.state.computeUsage(req.params.projectId);
  const set = quotaUpdate(req, 'compute', limits(req), { cores: used.cores, ram: used.ramMiB, instances: used.instances });
  const q = req.state.computeQuota;
  if (set.cores !== undefined) q.cores = set.cores;
  if (set.ram !== undefined) q.ramMiB = set.ram;
  if (set.instances !== undefined) q.instances = set.instances;
  return { status: 200, body: { quota_set: limits(req) } };
}

function quotaSet(req: SimRequest, detail: boolean): Reply {
  const limitByKey = limits(req);
  if (!detail) return { status: 200, body: { quota_set: { id: req.params.projectId, ...limitByKey } } };
  const used = req.state.computeUsage(req.params.projectId);
  const inUse: Record<string, number> = { cores: used.cores, ram: used.ramMiB, instances: used.instances };
  const items = Object.fromEntries(Object.entries(limitByKey).map(([k, limit]) => [k, { limit, in_use: inUse[k] ?? 0, reserved: 0 }]));
  return { status: 200, body: { quota_set: { id: req.params.projectId, ...items } } };
}

function showLimits(req: SimRequest): Reply {
  const q = req.state.computeQuota;
  const used = req.state.computeUsage(req.projectId);
  return {
    status: 200,
    body: {
      limits: {
        rate: [],
        absolute: {
          maxTotalCores: q.cores,
          maxTotalRAMSize: q.ramMiB,
          maxTotalInstances: q.instances,
          maxTotalKeypairs: 100,
          maxServerMeta: 128,
          maxServerGroups: 10,
          maxServerGroupMembers: 10,
          totalCoresUsed: used.cores,
          totalRAMUsed: used.ramMiB,
          totalInstancesUsed: used.instances,
          totalServerGroupsUsed: 0,
          ...(!atLeast(req.version, 2, 36) && { maxTotalFloatingIps: -1, maxSecurityGroups: -1, maxSecurityGroupRules: -1, totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0 }),
          ...(!atLeast(req.version, 2, 57) && { maxImageMeta: 128, maxPersonality: 5, maxPersonalitySize: 10240 }),
        },
      },
    },
  };
}
