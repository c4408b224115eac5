import { COMPUTE_VERSIONS, formatVersion } from './microversion.js';
import { novaAttachmentRoutes } from './nova-attachments.js';
import { novaBootRoutes } from './nova-boot.js';
import { novaFlavorRoutes } from './nova-flavors.js';
import { novaQuotaRoutes } from './nova-quotas.js';
import { novaServerRoutes } from './nova-servers.js';
import { route, type Route, type SimRequest } from './router.js';

/** Nova v2.1. Paths are relative to /compute; the server has taken any project id out of them. */

export const novaRoutes: Route[] = [
  route('GET', '/', (req) => ({ status: 200, body: { versions: [v20(req), v21(req)] } }), 'none'),
  route('GET', '/v2.1', (req) => ({ status: 200, body: { version: v21(req) } }), 'none'),
  ...novaFlavorRoutes,
  ...novaServerRoutes,
  ...novaBootRoutes,
  ...novaAttachmentRoutes,
  ...novaQuotaRoutes,
];

const mediaTypes = [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }];
const self = (req: SimRequest, v: string) => [{ rel: 'self', href: `${req.state.options.publicUrl}/compute/${v}/` }];

const v20 = (req: SimRequest) => ({ id: 'v2.0', status: 'SUPPORTED', version: '', min_version: '', updated: '2011-01-21T11:33:21Z', links: self(req, 'v2') });
const v21 = (req: SimRequest) => ({
  id: 'v2.1',
  status: 'CURRENT',
  version: formatVersion(COMPUTE_VERSIONS.max),
  min_version: formatVersion(COMPUTE_VERSIONS.min),
  updated: '2013-07-23T11:33:21Z',
  links: self(req, 'v2.1'),
  'media-types': mediaTypes,
});
