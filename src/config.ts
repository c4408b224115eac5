import path from 'node:path';
import { parseDuration } from './util/duration.js';
import { passwordPolicyViolation } from './services/auth/password-policy.js';
import type { EngineTimings } from './engine/step-context.js';

export interface LoginThrottlePolicy {
  /** failures allowed before any wait is imposed */
  freeFailures: number;
  /** wait after the first failure past the free ones; doubles each further failure */
  baseDelayMs: number;
  /** failures after which the account name is locked for lockMs */
  lockAfterFailures: number;
  lockMs: number;
}

export interface FerryConfig {
  host: string;
  port: number;
  /** PostgreSQL URL; when absent Ferry starts embedded PostgreSQL in dataDir */
  databaseUrl?: string;
  dataDir: string;
  embeddedPgPort: number;
  adminPassword?: string;
  tokenTtlSeconds: number;
  licensePublicKey?: string;
  /** base64 of 32 bytes; when absent the key is kept in `${dataDir}/master.key` */
  masterKey?: string;
  loginThrottle: LoginThrottlePolicy;
  logLevel: string;
  /**
   * where transport servers send their events; when absent, Ferry's own loopback URL
   * (`http://127.0.0.1:<port>` + TRANSPORT_EVENTS_PATH), which only transports on the same host can reach
   */
  callbackUrl?: string;
  /** seconds between checks that agent hosts answer (FERRY_HOST_CHECK_SECONDS, default 20) */
  hostCheckSeconds: number;
  /** the task engine's pacing (src/engine/step-context.ts); tests shorten it */
  engineTimings?: Partial<EngineTimings>;
}

/** The path of Ferry's endpoint for transport events (docs/transport-protocol.md, "Events"). */
export const TRANSPORT_EVENTS_PATH = '/v1/transport-events';

export class ConfigError extends Error {}

export const defaultLoginThrottle: LoginThrottlePolicy = {
  freeFailures: 3,
  baseDelayMs: 1_000,
  lockAfterFailures: 10,
  lockMs: 15 * 60_000,
};

function port(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(`${name} must be a TCP port number (0-65535), got "${value}"`);
  }
  return n;
}

/** FERRY_CALLBACK_URL: an http(s) URL; one without a path gets Ferry's event path appended. */
function callbackUrl(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const url = URL.canParse(value.trim()) ? new URL(value.trim()) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new ConfigError(`FERRY_CALLBACK_URL must be an http(s) URL at which transport servers reach Ferry, such as http://10.0.0.5:8080${TRANSPORT_EVENTS_PATH}, got "${value}"`);
  }
  if (url.pathname === '/') url.pathname = TRANSPORT_EVENTS_PATH;
  return url.toString();
}

function hostCheckSeconds(value: string | undefined): number {
  if (value === undefined || value === '') return 20;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1 || n > 3600) throw new ConfigError(`FERRY_HOST_CHECK_SECONDS must be a number of seconds between 1 and 3600, got "${value}"`);
  return n;
}

/** Reads Ferry's configuration from the environment; every variable is documented in README.md. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): FerryConfig {
  const ttl = parseDuration(env.FERRY_TOKEN_TTL ?? '2h');
  if (ttl === undefined || ttl < 1) {
    throw new ConfigError(`FERRY_TOKEN_TTL must be a duration such as 90s, 30m, 2h or 1d, got "${env.FERRY_TOKEN_TTL}"`);
  }
  const adminPassword = env.FERRY_ADMIN_PASSWORD || undefined;
  const violation = adminPassword === undefined ? undefined : passwordPolicyViolation(adminPassword);
  if (violation) throw new ConfigError(`FERRY_ADMIN_PASSWORD ${violation}`);
  return {
    host: env.HOST || '127.0.0.1',
    port: port('PORT', env.PORT, 8080),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.FERRY_DATA_DIR || '.data'),
    embeddedPgPort: port('FERRY_EMBEDDED_PG_PORT', env.FERRY_EMBEDDED_PG_PORT, 54329),
    adminPassword,
    tokenTtlSeconds: ttl,
    licensePublicKey: env.FERRY_LICENSE_PUBLIC_KEY || undefined,
    masterKey: env.FERRY_MASTER_KEY || undefined,
    loginThrottle: defaultLoginThrottle,
    logLevel: env.LOG_LEVEL || 'info',
    callbackUrl: callbackUrl(env.FERRY_CALLBACK_URL),
    hostCheckSeconds: hostCheckSeconds(env.FERRY_HOST_CHECK_SECONDS),
  };
}
