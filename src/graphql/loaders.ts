import DataLoader from 'dataloader';
import type { HostNetInterface, HostVolume, SourceHost, Task, TaskVolume } from '../../entities/index.js';
import type { Services } from '../services/index.js';
import type { CloudView } from '../services/clouds/cloud-service.js';
import type { TransportView } from '../services/transports/transport-service.js';

/**
 * Batch loaders of one GraphQL request (an HTTP request, or one operation on a WebSocket):
 * the fields of a page of N objects cost one query per field, not N. Built anew for every
 * request, so nothing is cached across requests or users.
 */
export interface Loaders {
  /** transport server by id (stored, as last seen); null when there is none */
  transport: DataLoader<string, TransportView | null>;
  /** cloud connection by id; null when there is none */
  cloud: DataLoader<string, CloudView | null>;
  /** a host's volumes, by host id */
  hostVolumes: DataLoader<string, HostVolume[]>;
  /** a host's NICs, by host id */
  hostNetInterfaces: DataLoader<string, HostNetInterface[]>;
  /** the agent hosts of a transport server, by transport id */
  transportHosts: DataLoader<string, SourceHost[]>;
  /** source host by id */
  sourceHost: DataLoader<string, SourceHost | null>;
  /** a task's volumes, in source order, by task id */
  taskVolumes: DataLoader<string, TaskVolume[]>;
  /** a source host's tasks, by host id */
  hostTasks: DataLoader<string, Task[]>;
}

export function createLoaders(services: Services): Loaders {
  const grouped = <T>(load: (ids: readonly string[]) => Promise<Map<string, T[]>>) =>
    new DataLoader<string, T[]>(async (ids) => {
      const groups = await load(ids);
      return ids.map((id) => groups.get(id) ?? []);
    });
  const single = <T>(load: (ids: readonly string[]) => Promise<Map<string, T>>) =>
    new DataLoader<string, T | null>(async (ids) => {
      const byId = await load(ids);
      return ids.map((id) => byId.get(id) ?? null);
    });
  return {
    transport: single((ids) => services.transports.byIds(ids)),
    cloud: single((ids) => services.clouds.byIds(ids)),
    hostVolumes: grouped((ids) => services.hosts.volumesOfHosts(ids)),
    hostNetInterfaces: grouped((ids) => services.hosts.netInterfacesOfHosts(ids)),
    transportHosts: grouped((ids) => services.hosts.hostsOfTransports(ids)),
    sourceHost: single((ids) => services.hosts.byIds(ids)),
    taskVolumes: grouped((ids) => services.tasks.volumesOfTasks(ids)),
    hostTasks: grouped((ids) => services.tasks.tasksOfHosts(ids)),
  };
}
