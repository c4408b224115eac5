import { canonicalQuery, signRequest } from './signature.js';
import { cloudError, errorFromAnswer, errorFromFailure, type CallContext } from './errors.js';

export const DEFAULT_TIMEOUT_MS = 15_000;

export interface SignedApiOptions {
  cloud: string;
  /** where the API's paths start, e.g. https://api.huayun.example/v1 or http://172.16.140.20/api/v4 */
  baseUrl: string;
  accessKey: string;
  secretKey: string;
  timeoutMs?: number;
}

export type QueryValues = Record<string, string | number | undefined>;
export type Method = 'GET' | 'POST' | 'DELETE';

/** JSON calls signed with FERRY-HMAC-SHA256; every failure is a CloudError naming the cloud and the call. */
export class SignedApiClient {
  readonly timeoutMs: number;

  constructor(private readonly opts: SignedApiOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The parsed JSON answer; undefined for an empty one (204). */
  async request(call: string, method: Method, path: string, input: { query?: QueryValues; body?: unknown } = {}): Promise<unknown> {
    const ctx: CallContext = { cloud: this.opts.cloud, call, secretKey: this.opts.secretKey };
    const base = this.base(ctx);
    const pairs = Object.entries(input.query ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]]));
    const query = canonicalQuery(pairs);
    const url = new URL(`${base.origin}${base.pathname.replace(/\/+$/, '')}${path}${query ? `?${query}` : ''}`);
    const body = input.body === undefined ? '' : JSON.stringify(input.body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...signRequest(this.opts.accessKey, this.opts.secretKey, { method, path: url.pathname, query: pairs, body }),
    };
    if (body) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method, headers, body: body || undefined, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (err) {
      throw errorFromFailure(ctx, err, this.timeoutMs, url.origin);
    }
    if (res.status >= 300) throw errorFromAnswer(ctx, res.status, res.statusText, text);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw cloudError(ctx, 'bad-response', `the answer is not JSON: ${text.slice(0, 80)}`, res.status);
    }
  }

  /** The base URL; a bare host name (the spec's CloudAddr is a domain name) means https. */
  private base(ctx: CallContext): URL {
    const raw = /^[a-z][a-z0-9+.-]*:\/\//i.test(this.opts.baseUrl) ? this.opts.baseUrl : `https://${this.opts.baseUrl}`;
    try {
      const url = new URL(raw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
      return url;
    } catch {
      throw cloudError(ctx, 'bad-request', `the API address "${this.opts.baseUrl}" is not an http(s) URL`);
    }
  }
}
