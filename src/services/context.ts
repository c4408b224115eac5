import type { MikroORM } from '@mikro-orm/postgresql';
import type { FerryConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Sealer } from './secrets/master-key.js';
import type { TokenSigner } from './auth/tokens.js';

/** What every domain service is built from. */
export interface ServiceDeps {
  orm: MikroORM;
  config: FerryConfig;
  log: Logger;
  sealer: Sealer;
  signer: TokenSigner;
  /** notifies every Ferry process sharing the database (LISTEN/NOTIFY) */
  notify: (channel: string, payload: string) => Promise<void>;
  /** where this process listens (`http://127.0.0.1:<port>` when bound to every address); throws before listening */
  selfUrl: () => string;
}

/** The caller, as established from a valid token. */
export interface AuthInfo {
  userId: string;
  userName: string;
  sessionId: string;
  jti: string;
  expiresAt: Date;
  isFirstLogin: boolean;
}
