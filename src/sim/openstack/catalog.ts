import { stableKeystoneId } from './ids.js';
import type { SimState } from './state.js';

export const REGION = 'RegionOne';

/** Where each service lives under the one port, as the catalog tells clients. */
export const SERVICE_PATHS = {
  identity: '/v3',
  compute: '/compute/v2.1',
  network: '/network',
  volume: (projectId: string) => `/volume/v3/${projectId}`,
};

const INTERFACES = ['public', 'internal', 'admin'] as const;

/** The token's catalog: every service on this host:port, one endpoint per interface, all in RegionOne. */
export function serviceCatalog(state: SimState, projectId: string) {
  const base = state.options.publicUrl;
  const services: [type: string, name: string, url: string][] = [
    ['identity', 'keystone', base + SERVICE_PATHS.identity],
    ['compute', 'nova', base + SERVICE_PATHS.compute],
    ['network', 'neutron', base + SERVICE_PATHS.network],
    ['volumev3', 'cinderv3', base + SERVICE_PATHS.volume(projectId)],
    ['block-storage', 'cinder', base + SERVICE_PATHS.volume(projectId)],
  ];
  return services.map(([type, name, url]) => ({
    id: stableKeystoneId(`service:${type}`),
    type,
    name,
    endpoints: INTERFACES.map((iface) => ({ id: stableKeystoneId(`endpoint:${type}:${iface}`), interface: iface, region: REGION, region_id: REGION, url })),
  }));
}
