/**
 * FERRY-HMAC-SHA256, the AK/SK request signature of the Huayun and CloudUltra 4 contracts
 * (docs/clouds/huayun.md, "Signing requests"). Drivers sign with it; the simulators verify with it.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

export const SIGNATURE_SCHEME = 'FERRY-HMAC-SHA256';
export const DATE_HEADER = 'x-ferry-date';
export const NONCE_HEADER = 'x-ferry-nonce';
/** A request whose X-Ferry-Date is further than this from the server's clock is refused. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export interface SignedParts {
  method: string;
  /** the path exactly as in the request line (percent-encoded), without the query */
  path: string;
  /** the query's name/value pairs, decoded */
  query: [string, string][];
  /** X-Ferry-Date, `YYYYMMDDTHHMMSSZ` */
  date: string;
  nonce: string;
  body: string | Buffer;
}

/** RFC 3986 percent-encoding: only A–Z a–z 0–9 - _ . ~ stay as they are. */
export function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Pairs encoded, sorted by name then value (code-point order of the encoded text), joined with `&`. */
export function canonicalQuery(pairs: [string, string][]): string {
  const encoded = pairs.map(([k, v]) => [rfc3986(k), rfc3986(v)] as const);
  encoded.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return encoded.map(([k, v]) => `${k}=${v}`).join('&');
}

export function stringToSign(parts: SignedParts): string {
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  return [SIGNATURE_SCHEME, parts.method.toUpperCase(), parts.path, canonicalQuery(parts.query), parts.date, parts.nonce, bodyHash].join('\n');
}

/** Lowercase hex HMAC-SHA256 keyed by the UTF-8 bytes of the secret key. */
export function computeSignature(secretKey: string, parts: SignedParts): string {
  return createHmac('sha256', secretKey).update(stringToSign(parts)).digest('hex');
}

/** `2026-11-29T22:36:05.123Z` → `20261129T223605Z` */
export function signatureDate(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The three headers that sign one request. */
export function signRequest(accessKey: string, secretKey: string, parts: Omit<SignedParts, 'date' | 'nonce'>, now = new Date()): Record<string, string> {
  const date = signatureDate(now);
  const nonce = randomBytes(16).toString('hex');
  const signature = computeSignature(secretKey, { ...parts, date, nonce });
  return {
    authorization: `${SIGNATURE_SCHEME} AccessKey=${accessKey}, Signature=${signature}`,
    [DATE_HEADER]: date,
    [NONCE_HEADER]: nonce,
  };
}
