import { CloudError, type CloudErrorKind } from '../cloud-driver.js';

/** Where a failed call happened, for the CloudError. */
export interface CallContext {
  cloud: string;
  /** what was being done: "list flavors", "create volume ferry-1-disk0" */
  call: string;
  /** never shown: removed from any text that might echo it */
  secretKey: string;
}

const KIND_BY_STATUS: Record<number, CloudErrorKind> = { 400: 'bad-request', 401: 'unauthorized', 403: 'forbidden', 404: 'not-found', 409: 'conflict', 413: 'over-quota' };

/** What the user can do about a refused signature. */
const HINTS: Record<string, string> = {
  InvalidSignature: 'check the SecretKey of the connection',
  InvalidAccessKey: 'check the AccessKey of the connection',
  SignatureExpired: "check this machine's clock",
  NonceReused: 'retry the call',
};

/** The CloudError for a non-2xx answer: the contract's `{code, message}` when the body has it. */
export function errorFromAnswer(ctx: CallContext, status: number, statusText: string, text: string): CloudError {
  const { code, message } = readErrorBody(text);
  const kind: CloudErrorKind = code === 'QuotaExceeded' ? 'over-quota' : (KIND_BY_STATUS[status] ?? (status >= 500 ? 'server-error' : 'bad-request'));
  const hint = status === 401 ? HINTS[code ?? ''] ?? 'check the AccessKey and SecretKey of the connection' : undefined;
  const detail = [code, message ?? statusText].filter(Boolean).join(': ');
  return cloudError(ctx, kind, `${status}${detail ? ` ${detail}` : ''}${hint ? ` (${hint})` : ''}`, status);
}

/** The CloudError for a call that got no answer: timeout, or the network refused. */
export function errorFromFailure(ctx: CallContext, err: unknown, timeoutMs: number, origin: string): CloudError {
  const name = (err as Error)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return cloudError(ctx, 'timeout', `no answer from ${origin} within ${timeoutMs / 1000} s`);
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ? `${cause.code}${cause.message ? ` (${cause.message})` : ''}` : ((err as Error)?.message ?? String(err));
  return cloudError(ctx, 'unreachable', `cannot reach ${origin}: ${why}`);
}

export function cloudError(ctx: CallContext, kind: CloudErrorKind, message: string, status?: number): CloudError {
  return new CloudError(kind, ctx.cloud, ctx.call, redact(message, ctx.secretKey), status);
}

/** The text with every occurrence of the secret masked. */
export function redact(text: string, secret: string): string {
  return secret ? text.split(secret).join('***') : text;
}

function readErrorBody(text: string): { code?: string; message?: string } {
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    return {
      code: typeof body.code === 'string' ? body.code : undefined,
      message: typeof body.message === 'string' ? body.message : undefined,
    };
  } catch {
    // not JSON: a proxy's HTML page, say
    const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    return { message: plain ? plain.slice(0, 200) : undefined };
  }
}
