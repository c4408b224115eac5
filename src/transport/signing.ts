/**
 * HMAC signatures over requests to a transport and events from it, keyed by the pairing secret.
 * signature = base64url(HMAC-SHA256(secret, METHOD \n path?query \n timestamp \n nonce \n sha256hex(body)))
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { MAX_CLOCK_SKEW_MS, SIGNATURE_HEADERS } from './protocol.js';

export type HeaderBag = Record<string, string | string[] | undefined>;
export type Verdict = { ok: true } | { ok: false; reason: string };

/** The three signature headers for one message; `path` includes the query string. */
export function signMessage(secret: string, method: string, path: string, body: string | Buffer, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.trunc(now));
  const nonce = randomUUID();
  return {
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: computeSignature(secret, method, path, timestamp, nonce, body),
  };
}

/** Checks a signed message and records its nonce; a forged message never burns a nonce. */
export function verifyMessage(
  secret: string,
  method: string,
  path: string,
  body: string | Buffer,
  headers: HeaderBag,
  guard: ReplayGuard,
  now = Date.now(),
): Verdict {
  const timestamp = headerValue(headers, SIGNATURE_HEADERS.timestamp);
  const nonce = headerValue(headers, SIGNATURE_HEADERS.nonce);
  const signature = headerValue(headers, SIGNATURE_HEADERS.signature);
  if (timestamp === undefined || nonce === undefined || signature === undefined) {
    return { ok: false, reason: `missing or repeated signature header (${Object.values(SIGNATURE_HEADERS).join(', ')})` };
  }
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: 'malformed timestamp: expected milliseconds since the epoch' };
  if (Math.abs(now - Number(timestamp)) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'timestamp too old or in the future' };
  if (!/^[A-Za-z0-9_-]{8,128}$/.test(nonce)) return { ok: false, reason: 'malformed nonce' };
  const expected = Buffer.from(computeSignature(secret, method, path, timestamp, nonce, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  return guard.remember(nonce, now);
}

/**
 * Remembers nonces for twice the allowed clock skew: long enough that a message cannot be
 * replayed before its timestamp alone makes it too old. Memory is bounded: when full it
 * refuses new messages rather than forget a nonce that could still be replayed.
 */
export class ReplayGuard {
  private readonly expiries = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(opts: { ttlMs?: number; maxEntries?: number } = {}) {
    this.ttlMs = opts.ttlMs ?? MAX_CLOCK_SKEW_MS * 2;
    this.maxEntries = opts.maxEntries ?? 100_000;
  }

  /** Records `nonce`; refuses it when already seen or when memory is full. */
  remember(nonce: string, now = Date.now()): Verdict {
    this.prune(now, false);
    const expiry = this.expiries.get(nonce);
    if (expiry !== undefined && expiry > now) return { ok: false, reason: 'replayed: this nonce was already used' };
    if (this.expiries.size >= this.maxEntries) this.prune(now, true);
    if (this.expiries.size >= this.maxEntries) return { ok: false, reason: 'too many recent messages; try again later' };
    this.expiries.set(nonce, now + this.ttlMs);
    return { ok: true };
  }

  get size(): number {
    return this.expiries.size;
  }

  // Insertion order is expiry order while the clock moves forward, so the cheap pass stops at
  // the first live entry; the full pass (only when full) also catches entries after a clock jump.
  private prune(now: number, full: boolean): void {
    for (const [nonce, expiry] of this.expiries) {
      if (expiry <= now) this.expiries.delete(nonce);
      else if (!full) return;
    }
  }
}

function computeSignature(secret: string, method: string, path: string, timestamp: string, nonce: string, body: string | Buffer): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const text = `${method.toUpperCase()}\n${path}\n${timestamp}\n${nonce}\n${bodyHash}`;
  return createHmac('sha256', secret).update(text).digest('base64url');
}

/** One header's value, whatever the case of its name; undefined when absent or sent twice. */
function headerValue(headers: HeaderBag, name: string): string | undefined {
  const key = name in headers ? name : Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}
