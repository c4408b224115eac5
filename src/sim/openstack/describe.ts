import { SERVICE_PATHS } from './catalog.js';
import { DEFAULT_DOMAIN, TRANSPORT_SERVER_NAME } from './seed.js';
import type { SimState } from './state.js';

/** What the simulator holds at start, printed for whoever runs it (tests read the ids from the API). */
export function describeSeed(state: SimState, o: { dir: string; ownDir: boolean; user: string; password: string; latencyMs: number }): string {
  const project = [...state.projects.values()][0];
  const user = [...state.users.values()][0];
  const url = state.options.publicUrl;
  const lines = [
    `OpenStack simulator: Keystone v3, Nova v2.1, Neutron v2.0, Cinder v3`,
    `  data: ${o.dir}${o.ownDir ? ' (temporary, removed on exit)' : ''}; token TTL ${state.options.tokenTtlSeconds} s; compute host of ${state.options.hostVcpus} vCPUs${o.latencyMs ? `; ${o.latencyMs} ms added to every answer` : ''}`,
    `  identity ${url}${SERVICE_PATHS.identity}  compute ${url}${SERVICE_PATHS.compute}  network ${url}${SERVICE_PATHS.network}  volumev3 ${url}${SERVICE_PATHS.volume(project.id)}`,
    `  domain ${DEFAULT_DOMAIN.name} (${DEFAULT_DOMAIN.id}); project ${project.name} ${project.id}; user ${o.user} ${user.id} password ${o.password}, roles ${user.roles.map((r) => r.name).join(', ')}`,
    `  flavors:`,
    ...[...state.flavors.values()].map((f) => `    ${f.id.padEnd(3)} ${f.name.padEnd(10)} ${f.vcpus} vCPU, ${f.ramMiB} MiB, ${f.diskGiB} GiB`),
    `  networks:`,
    ...[...state.networks.values()].flatMap((n) => [
      `    ${n.name} ${n.id}${n.external ? ' (external)' : ''}`,
      ...[...state.subnets.values()].filter((s) => s.networkId === n.id).map((s) => `      subnet ${s.name} ${s.id} ${s.cidr} gateway ${s.gatewayIp}`),
    ]),
    `  security groups: ${[...state.securityGroups.values()].map((g) => `${g.name} ${g.id}`).join(', ')}`,
    `  volume types: ${[...state.volumeTypes.values()].map((t) => `${t.name} ${t.id}${t.backend ? ` (backend ${t.backend})` : ''}`).join(', ')}`,
    `  pools: ${state.pools.map((p) => `${p.name} ${p.totalGiB} GiB`).join(', ')}`,
    `  quotas: cores ${state.computeQuota.cores}, ram ${state.computeQuota.ramMiB} MiB, instances ${state.computeQuota.instances}, volumes ${state.volumeQuota.volumes}, gigabytes ${state.volumeQuota.gigabytes}, snapshots ${state.volumeQuota.snapshots}`,
    ...[...state.servers.values()]
      .filter((s) => s.name === TRANSPORT_SERVER_NAME)
      .map((s) => `  transport server: ${s.name} ${s.id} (${s.status}, ${s.portIds.flatMap((p) => state.ports.get(p)?.fixedIps.map((ip) => ip.ip_address) ?? []).join(', ')})`),
  ];
  return lines.join('\n') + '\n';
}
