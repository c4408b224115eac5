import http, { type IncomingMessage } from 'node:http';
import { HttpError } from './http-util.js';
import type { Pairing } from './pairing.js';
import type { ProtocolError } from './protocol.js';
import { signMessage, verifyMessage, type ReplayGuard } from './signing.js';

/** Refuses a request not signed with the pairing secret (401), and confirms the pairing on the first good one. */
export async function requireSignature(pairing: Pairing, guard: ReplayGuard, req: IncomingMessage, body: Buffer): Promise<void> {
  const secret = pairing.secret;
  if (!secret) throw new HttpError(401, 'not-paired', 'not paired yet: POST /v1/pair first');
  const verdict = verifyMessage(secret, req.method ?? 'GET', req.url ?? '/', body, req.headers, guard);
  if (!verdict.ok) throw new HttpError(401, 'bad-signature', verdict.reason);
  await pairing.confirm();
}

export interface SignedCall {
  baseUrl: string;
  secret?: string;
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: unknown;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A JSON request to an agent or transport; non-2xx answers become errors carrying the peer's message. */
export async function signedJson<T>(call: SignedCall): Promise<T> {
  const res = await signedRequest(call);
  if ((res.statusCode ?? 500) >= 300) throw await peerErrorOf(res);
  return JSON.parse(await readAll(res)) as T;
}

/** The raw response, for streams; the caller reads it. */
export function signedRequest(call: SignedCall): Promise<IncomingMessage> {
  const body = call.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(call.body));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(body.length) };
  if (call.secret) Object.assign(headers, signMessage(call.secret, call.method, call.path, body));
  const url = new URL(call.path, call.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: call.method, headers, signal: call.signal }, resolve);
    req.setTimeout(call.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer from ${call.baseUrl} within ${(call.timeoutMs ?? 10_000) / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

export class PeerError extends Error {
  constructor(readonly status: number, readonly detail: ProtocolError) {
    super(detail.message);
  }
}

/** The error a non-2xx answer carries, with the peer's own message. */
export async function peerErrorOf(res: IncomingMessage): Promise<PeerError> {
  return new PeerError(res.statusCode ?? 500, parseProtocolError(await readAll(res)));
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function parseProtocolError(text: string): ProtocolError {
  try {
    const parsed = JSON.parse(text) as Partial<ProtocolError>;
    return { error: parsed.error ?? 'unknown', message: parsed.message ?? text.slice(0, 200) };
  } catch {
    return { error: 'unknown', message: text.slice(0, 200) };
  }
}
