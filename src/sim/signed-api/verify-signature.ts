import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { computeSignature, DATE_HEADER, MAX_CLOCK_SKEW_MS, NONCE_HEADER, SIGNATURE_SCHEME } from '../../drivers/cloud/signed-api/signature.js';
import { ApiError, unauthorized } from './api-error.js';

export interface SignedRequest {
  method: string;
  /** as in the request line, without the query */
  path: string;
  query: [string, string][];
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const AUTHORIZATION = new RegExp(`^${SIGNATURE_SCHEME} AccessKey=([^\\s,=]+),\\s*Signature=([0-9a-f]{64})$`);

/**
 * Checks a FERRY-HMAC-SHA256 signature, in the contract's order: the headers are there and well
 * formed, the date is within 5 minutes, the access key is known, the signature matches, and only
 * then that the nonce is new (a forged request never burns a nonce).
 */
export function verifySignature(req: SignedRequest, keys: Map<string, string>, nonces: NonceMemory, now = Date.now()): string {
  const auth = single(req.headers.authorization);
  if (!auth) throw unauthorized('InvalidSignature', `missing Authorization header: expected "${SIGNATURE_SCHEME} AccessKey=..., Signature=..."`);
  const match = AUTHORIZATION.exec(auth);
  if (!match) throw unauthorized('InvalidSignature', `malformed Authorization header: expected "${SIGNATURE_SCHEME} AccessKey=<key>, Signature=<64 hex digits>"`);
  const [, accessKey, signature] = match;
  const date = single(req.headers[DATE_HEADER]);
  const at = date === undefined ? undefined : parseDate(date);
  if (date === undefined || at === undefined) throw unauthorized('InvalidSignature', 'missing or malformed X-Ferry-Date header: expected YYYYMMDDTHHMMSSZ (UTC)');
  if (Math.abs(now - at) > MAX_CLOCK_SKEW_MS) {
    throw unauthorized('SignatureExpired', `X-Ferry-Date ${date} is more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes away from the server's time ${new Date(now).toISOString()}`);
  }
  const nonce = single(req.headers[NONCE_HEADER]);
  if (nonce === undefined || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) throw unauthorized('InvalidSignature', 'missing or malformed X-Ferry-Nonce header: expected 16 to 64 characters of A-Z a-z 0-9 _ -');
  const secretKey = keys.get(accessKey);
  if (secretKey === undefined) throw unauthorized('InvalidAccessKey', `AccessKey "${accessKey}" does not exist`);
  const expected = Buffer.from(computeSignature(secretKey, { method: req.method, path: req.path, query: req.query, date, nonce, body: req.body }));
  if (!timingSafeEqual(expected, Buffer.from(signature))) throw unauthorized('InvalidSignature', 'the signature does not match the request');
  const verdict = nonces.remember(nonce, now);
  if (verdict === 'replayed') throw unauthorized('NonceReused', `X-Ferry-Nonce ${nonce} was already used: every request needs a new one`);
  if (verdict === 'full') throw new ApiError(503, 'InternalError', 'too many requests in the last 10 minutes; try again later');
  return accessKey;
}

/** `20261129T223605Z` → epoch ms; undefined when malformed. */
function parseDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return new Date(ms).toISOString().startsWith(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`) ? ms : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

/**
 * Nonces seen in the last 10 minutes (twice the allowed skew: by then the date alone refuses a
 * replay). Bounded: when full it refuses new requests rather than forget a replayable nonce.
 */
export class NonceMemory {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly ttlMs = 2 * MAX_CLOCK_SKEW_MS,
    private readonly maxEntries = 200_000,
  ) {}

  remember(nonce: string, now = Date.now()): 'new' | 'replayed' | 'full' {
    for (const [n, expiry] of this.expiries) {
      if (expiry > now) break;
      this.expiries.delete(n);
    }
    if ((this.expiries.get(nonce) ?? 0) > now) return 'replayed';
    if (this.expiries.size >= this.maxEntries) return 'full';
    this.expiries.set(nonce, now + this.ttlMs);
    return 'new';
  }
}
