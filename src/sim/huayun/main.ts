import { runSignedApiSimulator } from '../signed-api/run-simulator.js';
import { huayunRoutes } from './routes.js';
import { huayunId, seedHuayun } from './seed.js';

/** `ferry sim huayun --listen HOST:PORT [...]`: the Huayun public cloud of docs/clouds/huayun.md, in memory. */
export async function runSimulator(args: string[]): Promise<number> {
  return runSignedApiSimulator(
    {
      kind: 'huayun',
      title: 'Huayun simulator',
      newId: huayunId,
      async build(state, opts) {
        const world = await seedHuayun(state);
        const describe = (url: string) => [
          `Huayun API: ${url}/v1 (account ${world.account.name})`,
          ...world.regions.flatMap((r) => [
            `region ${r.id} ${r.name}${r.enabled ? '' : ' (the account is not enabled here: 403)'}: ${r.scope.catalog.flavors.length} flavors`,
            ...r.scope.catalog.networks.map((n) => `  VPC ${n.name} ${n.id} ${n.cidr}; subnets ${n.subnets.map((s) => `${s.name} ${s.id} ${s.cidr}`).join(', ')}`),
            ...r.scope.catalog.routers.map((x) => `  router ${x.name} ${x.id}${x.externalGateway ? ' (external gateway)' : ''}`),
            `  security groups ${r.scope.catalog.securityGroups.map((g) => `${g.name} ${g.id}`).join(', ')}; volume types ${r.scope.catalog.volumeTypes.map((t) => t.id).join(', ')}`,
          ]),
          `ferry-transport server ${world.transport.id} in ${world.transport.scope.key}, IP ${world.transport.ip}`,
        ];
        return { routes: huayunRoutes(state, world, opts.accessKey), describe };
      },
    },
    args,
  );
}
