import type { AuthInfo, Services } from '../services/index.js';
import type { ServiceError } from '../services/errors.js';

export interface GraphQLContext {
  services: Services;
  /** the caller, when the token was valid */
  auth?: AuthInfo;
  /** why the token was refused (or that there was none) */
  authError?: ServiceError;
}
