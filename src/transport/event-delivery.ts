/** Sends one transport event to the controller's callback URL, signed; only a 2xx counts as received. */
import type { TransportEvent } from './protocol.js';
import { signMessage } from './signing.js';

export interface EventDelivererOptions {
  /** read on every attempt, so a re-pairing takes effect on the next retry */
  callbackUrl: () => string;
  secret: () => string;
  timeoutMs?: number;
}

export function httpEventDeliverer(opts: EventDelivererOptions): (event: TransportEvent) => Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return async function deliverEvent(event) {
    const url = new URL(opts.callbackUrl());
    const body = JSON.stringify(event);
    const headers = { 'content-type': 'application/json', ...signMessage(opts.secret(), 'POST', url.pathname + url.search, body) };
    // never log credentials a callback URL might carry
    const where = `${url.origin}${url.pathname}`;
    let status: number;
    let answer: string;
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      status = res.status;
      answer = await res.text();
    } catch (err) {
      throw new Error(`event ${event.seq} (${event.type}) not delivered to ${where}: ${describeFailure(err, timeoutMs)}`, { cause: err });
    }
    if (status < 200 || status > 299) {
      throw new Error(`event ${event.seq} (${event.type}) refused by ${where}: HTTP ${status} ${answer.slice(0, 200)}`);
    }
  };
}

function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
