import { randomUUID } from 'node:crypto';
import { runSignedApiSimulator } from '../signed-api/run-simulator.js';
import { cloudUltraRoutes } from './routes.js';
import { seedCloudUltra } from './seed.js';

/** `ferry sim cloudultra --listen HOST:PORT [...]`: a CloudUltra 4 of docs/clouds/cloudultra.md, in memory, APIMgntURL http://HOST:PORT/api. */
export async function runSimulator(args: string[]): Promise<number> {
  return runSignedApiSimulator(
    {
      kind: 'cloudultra',
      title: 'CloudUltra 4 simulator',
      newId: () => randomUUID(),
      async build(state, opts) {
        const world = await seedCloudUltra(state);
        const name = (id: string) => world.owners.find((o) => o.id === id)!.name;
        const describe = (url: string) => [
          `APIMgntURL: ${url}/api (user ${world.user.name})`,
          ...world.owners.map((o) => `project (owner) ${o.name} ${o.id}${o.mine ? '' : ' (not this AccessKey\'s: 403)'}`),
          ...world.environments.map((e) => `environment ${e.name} ${e.id} (${e.hypervisor})`),
          ...world.zones.map((z) => `zone ${z.name} ${z.id} in environment ${z.environmentId}, open to ${z.ownerIds.map(name).join(', ')}`),
          `ferry-transport server ${world.transport.id} in project ${name(world.transport.scope.quotaKey)} zone ${world.zones[0].name}, IP ${world.transport.ip}`,
        ];
        return { routes: cloudUltraRoutes(state, world, opts.accessKey), describe };
      },
    },
    args,
  );
}
