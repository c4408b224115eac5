import { CloudError, type OpenStackSettings } from '../cloud-driver.js';
import { callJson } from './openstack-http.js';

/**
 * Renew a token this long before Keystone says it expires (or a tenth of its lifetime, when
 * that is shorter), so that no call starts with a dying one.
 */
const RENEW_BEFORE_MS = 5 * 60 * 1000;

export type ServiceKind = 'compute' | 'network' | 'volume' | 'identity';

/** Catalog types each service is published under, most specific first (Cinder has had three). */
const CATALOG_TYPES: Record<ServiceKind, string[]> = {
  compute: ['compute'],
  network: ['network'],
  volume: ['block-storage', 'volumev3', 'volume'],
  identity: ['identity'],
};

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region?: string; region_id?: string; url: string }[];
}

interface TokenBody {
  token: { expires_at: string; project?: { id: string; name: string }; catalog?: CatalogEntry[] };
}

export interface KeystoneToken {
  value: string;
  expiresAt: number;
  /** when to authenticate again */
  renewAt: number;
  projectId: string;
  catalog: CatalogEntry[];
}

/**
 * A Keystone v3 session scoped to one project: password authentication, the service catalog,
 * and the token kept until shortly before it expires (or until a service refuses it).
 */
export class KeystoneSession {
  private token?: KeystoneToken;
  private pending?: Promise<KeystoneToken>;

  constructor(
    private readonly settings: OpenStackSettings,
    private readonly cloud: string,
    private readonly timeoutMs: number,
  ) {}

  get identityUrl(): string {
    const { protocol, host, port } = this.settings;
    return `${protocol}://${host.includes(':') ? `[${host}]` : host}:${port}/v3`;
  }

  /** A valid token, authenticating when there is none or it is about to expire. */
  async current(): Promise<KeystoneToken> {
    if (this.token && Date.now() < this.token.renewAt) return this.token;
    return this.renew();
  }

  /** Authenticates again (one request at a time, shared by concurrent callers). */
  renew(): Promise<KeystoneToken> {
    this.pending ??= this.authenticate().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async authenticate(): Promise<KeystoneToken> {
    const { user, password, project, domain } = this.settings;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { name: domain }, password } } },
        scope: { project: { name: project, domain: { name: domain } } },
      },
    };
    const answer = await callJson<TokenBody>({
      cloud: this.cloud,
      call: 'authenticate (Keystone POST /v3/auth/tokens)',
      method: 'POST',
      url: `${this.identityUrl}/auth/tokens`,
      body,
      timeoutMs: this.timeoutMs,
    });
    const value = answer.headers.get('x-subject-token');
    const expiresAt = Date.parse(answer.body?.token?.expires_at ?? '');
    const projectId = answer.body?.token?.project?.id;
    if (!value || !Number.isFinite(expiresAt) || !projectId) {
      throw new CloudError('bad-response', this.cloud, 'authenticate (Keystone POST /v3/auth/tokens)', 'Keystone answered without a token, its expiry or its project');
    }
    const lifetime = expiresAt - Date.now();
    const renewAt = expiresAt - Math.min(RENEW_BEFORE_MS, lifetime / 10);
    this.token = { value, expiresAt, renewAt, projectId, catalog: answer.body.token.catalog ?? [] };
    return this.token;
  }

  /** The public endpoint of a service, in the configured region (or the first one). */
  endpoint(token: KeystoneToken, kind: ServiceKind): string {
    const region = this.settings.region;
    for (const type of CATALOG_TYPES[kind]) {
      const entry = token.catalog.find((e) => e.type === type);
      const endpoint = entry?.endpoints.find((e) => e.interface === 'public' && (!region || e.region_id === region || e.region === region));
      if (endpoint) return endpoint.url.replace(/\/+$/, '');
    }
    const where = region ? ` in region ${region}` : '';
    throw new CloudError('bad-response', this.cloud, `find the ${kind} service`, `the service catalog has no public ${CATALOG_TYPES[kind].join(' or ')} endpoint${where}`);
  }

  /** Regions that appear in the catalog. */
  regions(token: KeystoneToken): string[] {
    const all = token.catalog.flatMap((e) => e.endpoints.map((p) => p.region_id ?? p.region ?? '')).filter(Boolean);
    return [...new Set(all)].sort();
  }
}
