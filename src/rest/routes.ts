import type { RestRoutes } from './action.js';
import { cloudRoutes } from './actions/clouds.js';
import { hostRoutes } from './actions/hosts.js';
import { taskRoutes } from './actions/tasks.js';
import { pendingRoutes } from './actions/pending.js';
import { sessionRoutes } from './actions/session.js';
import { settingsRoutes } from './actions/settings.js';
import { transportRoutes } from './actions/transports.js';

/** Later tables override the pending placeholders action by action. */
function merge(...tables: RestRoutes[]): RestRoutes {
  const routes: RestRoutes = {};
  for (const table of tables) {
    for (const [url, actions] of Object.entries(table)) routes[url] = { ...routes[url], ...actions };
  }
  return routes;
}

export const restRoutes: RestRoutes = merge(pendingRoutes, sessionRoutes, settingsRoutes, cloudRoutes, transportRoutes, hostRoutes, taskRoutes);
