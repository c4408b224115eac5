import { ApiError, forbidden } from './errors.js';
import { cinderTime } from './ids.js';
import { parseBool } from './input.js';
import { quotaUpdate } from './quota-update.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';
import type { SimState } from './state.js';

/** Cinder's quotas, and the scheduler's view of its pools. */

/** 413 as Cinder answers it when a reservation does not fit (the exception's class name leads the message). */
export function reserveVolumeQuota(state: SimState, projectId: string, want: { volumes?: number; snapshots?: number; gigabytes: number }): void {
  const quota = state.volumeQuota;
  const used = state.volumeUsage(projectId);
  if (quota.gigabytes >= 0 && used.gigabytes + want.gigabytes > quota.gigabytes) {
    throw new ApiError(
      413,
      `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested ${want.gigabytes}G, quota is ${quota.gigabytes}G and ${used.gigabytes}G has been consumed.`,
    );
  }
  if (want.volumes && quota.volumes >= 0 && used.volumes + want.volumes > quota.volumes) {
    throw new ApiError(413, `VolumeLimitExceeded: Maximum number of volumes allowed (${quota.volumes}) exceeded for quota 'volumes'.`);
  }
  if (want.snapshots && quota.snapshots >= 0 && used.snapshots + want.snapshots > quota.snapshots) {
    throw new ApiError(413, `SnapshotLimitExceeded: Maximum number of snapshots allowed (${quota.snapshots}) exceeded`);
  }
}

/** GiB already placed on a pool. */
export const poolAllocated = (state: SimState, pool: string) => [...state.volumes.values()].filter((v) => v.host === pool).reduce((sum, v) => sum + v.sizeGiB, 0);

export const cinderQuotaRoutes: Route[] = [
  route('GET', '/v3/os-quota-sets/:projectId', showQuota),
  route('PUT', '/v3/os-quota-sets/:projectId', updateQuota),
  route('GET', '/v3/os-quota-sets/:projectId/defaults', (req) => ({ status: 200, body: { quota_set: { id: req.params.projectId, ...limits(req.state) } } })),
  route('GET', '/v3/limits', showLimits),
  route('GET', '/v3/scheduler-stats/get_pools', listPools),
];

function limits(state: SimState): Record<string, number> {
  const q = state.volumeQuota;
  const perType = [...state.volumeTypes.values()].flatMap((t) => [`volumes_${t.name}`, `gigabytes_${t.name}`, `snapshots_${t.name}`].map((k) => [k, -1] as const));
  return { volumes: q.volumes, gigabytes: q.gigabytes, snapshots: q.snapshots, per_volume_gigabytes: -1, backups: 10, backup_gigabytes: 1000, groups: 10, ...Object.fromEntries(perType) };
}

/** Sets the limits an operator changes (volumes, gigabytes, snapshots; the others stay as they are). */
function updateQuota(req: SimRequest): Reply {
  const current = limits(req.state);
  const set = quotaUpdate(req, 'volume', current, usageByKey(req.state, req.params.projectId));
  const q = req.state.volumeQuota;
  for (const key of ['volumes', 'gigabytes', 'snapshots'] as const) if (set[key] !== undefined) q[key] = set[key];
  return { status: 200, body: { quota_set: { ...limits(req.state), ...set } } };
}

function showQuota(req: SimRequest): Reply {
  const limitsById = limits(req.state);
  if (parseBool(req.query.get('usage') ?? 'false') !== true) return { status: 200, body: { quota_set: { id: req.params.projectId, ...limitsById } } };
  const used = usageByKey(req.state, req.params.projectId);
  const withUsage = Object.fromEntries(Object.entries(limitsById).map(([k, limit]) => [k, { limit, in_use: used[k] ?? 0, reserved: 0 }]));
  return { status: 200, body: { quota_set: { id: req.params.projectId, ...withUsage } } };
}

/** In-use counts under the quota keys, per-type keys (`gigabytes_ssd`) included. */
function usageByKey(state: SimState, projectId: string): Record<string, number> {
  const used: Record<string, number> = { ...state.volumeUsage(projectId) };
  const add = (key: string, n: number) => (used[key] = (used[key] ?? 0) + n);
  for (const v of state.volumes.values()) {
    if (v.projectId !== projectId) continue;
    const type = state.volumeTypes.get(v.typeId)?.name;
    add(`volumes_${type}`, 1);
    add(`gigabytes_${type}`, v.sizeGiB);
  }
  for (const s of state.snapshots.values()) {
    const type = state.volumeTypes.get(state.volumes.get(s.volumeId)?.typeId ?? '')?.name;
    if (s.projectId !== projectId || !type) continue;
    add(`snapshots_${type}`, 1);
    add(`gigabytes_${type}`, s.sizeGiB);
  }
  return used;
}

function showLimits(req: SimRequest): Reply {
  const q = req.state.volumeQuota;
  const used = req.state.volumeUsage(req.projectId);
  return {
    status: 200,
    body: {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: q.volumes,
          maxTotalSnapshots: q.snapshots,
          maxTotalVolumeGigabytes: q.gigabytes,
          maxTotalBackups: 10,
          maxTotalBackupGigabytes: 1000,
          totalVolumesUsed: used.volumes,
          totalSnapshotsUsed: used.snapshots,
          totalGigabytesUsed: used.gigabytes,
          totalBackupsUsed: 0,
          totalBackupGigabytesUsed: 0,
        },
      },
    },
  };
}

function listPools(req: SimRequest): Reply {
  if (!req.token.roles.some((r) => r.name === 'admin')) throw forbidden(`Policy doesn't allow scheduler_extension:scheduler_stats:get_pools to be performed.`);
  const detail = parseBool(req.query.get('detail') ?? 'false') === true;
  const pools = req.state.pools.map((p) => {
    if (!detail) return { name: p.name };
    const allocated = poolAllocated(req.state, p.name);
    return {
      name: p.name,
      capabilities: {
        pool_name: p.name.split('#')[1],
        volume_backend_name: p.backend,
        storage_protocol: p.protocol,
        vendor_name: 'Open Source',
        driver_version: '3.0.0',
        total_capacity_gb: p.totalGiB,
        free_capacity_gb: p.totalGiB - allocated,
        allocated_capacity_gb: allocated,
        provisioned_capacity_gb: allocated,
        reserved_percentage: 0,
        max_over_subscription_ratio: '1.0',
        thin_provisioning_support: true,
        thick_provisioning_support: false,
        multiattach: false,
        QoS_support: false,
        total_volumes: [...req.state.volumes.values()].filter((v) => v.host === p.name).length,
        timestamp: cinderTime(new Date()),
      },
    };
  });
  return { status: 200, body: { pools } };
}
