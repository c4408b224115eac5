import { quotaExceeded } from './api-error.js';
import type { CloudState, QuotaLimits, QuotaName } from './cloud-state.js';

const LABELS: Record<QuotaName, string> = {
  instances: 'servers',
  cores: 'vCPUs',
  ramMiB: 'MiB of memory',
  volumes: 'volumes',
  volumeGiB: 'GiB of volumes',
  snapshots: 'snapshots',
  publicIps: 'public IPs',
  bandwidthMbps: 'Mbps of bandwidth',
};

/** What the resources counted against `quotaKey` use now. */
export function usageOf(state: CloudState, quotaKey: string): QuotaLimits {
  const servers = [...state.servers.values()].filter((s) => s.scope.quotaKey === quotaKey);
  const volumes = [...state.volumes.values()].filter((v) => v.scope.quotaKey === quotaKey);
  const snapshots = [...state.snapshots.values()].filter((s) => s.scope.quotaKey === quotaKey);
  const sum = <T>(items: T[], f: (t: T) => number) => items.reduce((n, t) => n + f(t), 0);
  return {
    instances: servers.length,
    cores: sum(servers, (s) => s.vcpus),
    ramMiB: sum(servers, (s) => s.ramMiB),
    volumes: volumes.length,
    volumeGiB: sum(volumes, (v) => v.sizeGiB),
    snapshots: snapshots.length,
    publicIps: servers.filter((s) => s.publicIp).length,
    bandwidthMbps: sum(servers, (s) => s.bandwidthMbps ?? 0),
  };
}

/** Refuses (403 QuotaExceeded) when adding `more` would pass a limit; -1 is unlimited. */
export function requireQuota(state: CloudState, quotaKey: string, more: Partial<QuotaLimits>): void {
  const limits = state.quotas.get(quotaKey);
  if (!limits) return;
  const used = usageOf(state, quotaKey);
  for (const [name, amount] of Object.entries(more) as [QuotaName, number][]) {
    const limit = limits[name];
    if (limit >= 0 && used[name] + amount > limit) {
      throw quotaExceeded(`quota exceeded: ${amount} more ${LABELS[name]} would make ${used[name] + amount}, the limit is ${limit}`);
    }
  }
}
