import { notFound } from './errors.js';
import { cinderQuotaRoutes } from './cinder-quotas.js';
import { cinderSnapshotRoutes } from './cinder-snapshots.js';
import { typeView } from './cinder-views.js';
import { cinderVolumeRoutes } from './cinder-volumes.js';
import { formatVersion, VOLUME_VERSIONS } from './microversion.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';
import { AVAILABILITY_ZONE } from './seed.js';

/** Cinder v3. Paths are relative to /volume; the server has taken the project id out of them. */

export const cinderRoutes: Route[] = [
  route('GET', '/', (req) => ({ status: 300, body: versions(req) }), 'none'),
  route('GET', '/v3', (req) => ({ status: 200, body: versions(req) }), 'none'),
  route('GET', '/v3/types', (req) => ({ status: 200, body: { volume_types: [...req.state.volumeTypes.values()].map(typeView) } })),
  route('GET', '/v3/types/:id', showType),
  route('GET', '/v3/os-availability-zone', () => ({ status: 200, body: { availabilityZoneInfo: [{ zoneName: AVAILABILITY_ZONE, zoneState: { available: true } }] } })),
  ...cinderVolumeRoutes,
  ...cinderSnapshotRoutes,
  ...cinderQuotaRoutes,
];

function versions(req: SimRequest) {
  const publicUrl = req.state.options.publicUrl;
  return {
    versions: [
      {
        id: 'v3.0',
        status: 'CURRENT',
        version: formatVersion(VOLUME_VERSIONS.max),
        min_version: formatVersion(VOLUME_VERSIONS.min),
        updated: '2023-08-31T00:00:00Z',
        links: [
          { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
          { rel: 'self', href: `${publicUrl}/volume/v3/` },
        ],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
      },
    ],
  };
}

function showType(req: SimRequest): Reply {
  const types = [...req.state.volumeTypes.values()];
  const type = req.params.id === 'default' ? types.find((t) => t.name === '__DEFAULT__') : types.find((t) => t.id === req.params.id);
  if (!type) throw notFound(`Volume type ${req.params.id} could not be found.`);
  return { status: 200, body: { volume_type: typeView(type) } };
}
