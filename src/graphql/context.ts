import type { AuthInfo, Services } from '../services/index.js';
import type { ServiceError } from '../services/errors.js';
import type { Loaders } from './loaders.js';
import type { TaskFeeds } from '../engine/task-feeds.js';

export interface GraphQLContext {
  services: Services;
  /** batch loaders, made anew for every request (createLoaders) */
  loaders: Loaders;
  /** the caller, when the token was valid */
  auth?: AuthInfo;
  /** why the token was refused (or that there was none) */
  authError?: ServiceError;
  /** task events and progress from the log (subscriptions, on WebSocket operations) */
  feeds?: TaskFeeds;
}
