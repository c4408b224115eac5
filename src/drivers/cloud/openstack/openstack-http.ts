import { CloudError, type CloudErrorKind } from '../cloud-driver.js';

export interface OpenStackCall {
  cloud: string;
  /** what is being done, for messages: "list flavors (Nova GET /flavors/detail)" */
  call: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

export interface OpenStackAnswer<T> {
  status: number;
  headers: Headers;
  body: T;
}

const KIND_BY_STATUS: Record<number, CloudErrorKind> = { 400: 'bad-request', 401: 'unauthorized', 403: 'forbidden', 404: 'not-found', 409: 'conflict', 413: 'over-quota' };

/** Network failures fetch reports as a TypeError with the system error as its cause. */
function networkFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${cause.code}${cause.message ? ` (${cause.message})` : ''}` : ((err as Error).message ?? String(err));
}

/**
 * The message an OpenStack service put in its error body. Each service has its own envelope:
 * Keystone `{"error":{"message"}}`, Nova `{"itemNotFound":{"message"}}` and the like, Neutron
 * `{"NeutronError":{"message"}}`, Cinder `{"overLimit":{"message"}}`.
 */
function serviceMessage(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    for (const value of Object.values(parsed)) {
      if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') return (value as { message: string }).message;
    }
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: a proxy's HTML page, say
  }
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return plain ? plain.slice(0, 200) : undefined;
}

/** One JSON call to an OpenStack service; any failure becomes a CloudError naming the cloud and the call. */
export async function callJson<T>(req: OpenStackCall): Promise<OpenStackAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  if (req.token) headers['x-auth-token'] = req.token;
  let res: Response;
  let text: string;
  try {
    res = await fetch(req.url, { method: req.method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body), signal: AbortSignal.timeout(req.timeoutMs) });
    text = await res.text();
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new CloudError('timeout', req.cloud, req.call, `no answer within ${req.timeoutMs / 1000} s`);
    }
    throw new CloudError('unreachable', req.cloud, req.call, `cannot reach ${new URL(req.url).origin}: ${networkFailure(err)}`);
  }
  if (res.status >= 400) {
    const kind = KIND_BY_STATUS[res.status] ?? (res.status >= 500 ? 'server-error' : 'bad-request');
    const detail = serviceMessage(text) ?? res.statusText;
    throw new CloudError(kind, req.cloud, req.call, `${res.status}${detail ? `: ${detail}` : ''}`, res.status);
  }
  if (!text) return { status: res.status, headers: res.headers, body: undefined as T };
  try {
    return { status: res.status, headers: res.headers, body: JSON.parse(text) as T };
  } catch {
    throw new CloudError('bad-response', req.cloud, req.call, `the answer is not JSON: ${text.slice(0, 80)}`, res.status);
  }
}
