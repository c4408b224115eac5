import { CloudError } from '../cloud-driver.js';
import { KeystoneSession, type KeystoneToken, type ServiceKind } from './keystone.js';
import { callJson } from './openstack-http.js';

const SERVICE_NAMES: Record<ServiceKind, string> = { compute: 'Nova', network: 'Neutron', volume: 'Cinder', identity: 'Keystone' };

/** Where a service's API starts below its catalog URL, when the catalog gives it unversioned. */
function versioned(kind: ServiceKind, base: string, token: KeystoneToken): string {
  if (kind === 'compute') return /\/v2(\.1)?(\/[^/]+)?$/.test(base) ? base : `${base}/v2.1`;
  if (kind === 'network') return base.endsWith('/v2.0') ? base.slice(0, -'/v2.0'.length) : base;
  if (kind === 'volume') return /\/v3(\/[^/]+)?$/.test(base) ? base : `${base}/v3/${token.projectId}`;
  return base;
}

/**
 * Authenticated calls to the services of one OpenStack project. A call refused with 401 (a token
 * revoked or expired before its time) is made once more with a fresh token.
 */
export class OpenStackApi {
  constructor(
    readonly session: KeystoneSession,
    private readonly cloud: string,
    private readonly timeoutMs: number,
  ) {}

  async request<T>(what: string, kind: ServiceKind, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    // Neutron's catalog URL has no version; its API paths start with /v2.0
    const apiPath = kind === 'network' ? `/v2.0${path}` : path;
    const call = `${what} (${SERVICE_NAMES[kind]} ${method} ${apiPath.split('?')[0]})`;
    const attempt = async (token: KeystoneToken) => {
      const base = versioned(kind, this.session.endpoint(token, kind), token);
      const url = `${base}${apiPath}`;
      return (await callJson<T>({ cloud: this.cloud, call, method, url, body, token: token.value, timeoutMs: this.timeoutMs })).body;
    };
    try {
      return await attempt(await this.session.current());
    } catch (err) {
      if (!(err instanceof CloudError && err.kind === 'unauthorized')) throw err;
      return attempt(await this.session.renew());
    }
  }

  /** As `request`, but a 404 is an answer (undefined): deleting what is already gone succeeds. */
  async requestUnlessGone<T>(what: string, kind: ServiceKind, method: 'GET' | 'DELETE', path: string): Promise<T | undefined> {
    try {
      return await this.request<T>(what, kind, method, path);
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'not-found') return undefined;
      throw err;
    }
  }

  async projectId(): Promise<string> {
    return (await this.session.current()).projectId;
  }
}
