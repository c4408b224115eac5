/**
 * The controller's side of event delivery, free of any HTTP framework: checks that an event
 * comes signed from a paired transport, de-duplicates by id, and hands new ones to `accept`.
 */
import type { TransportEvent } from './protocol.js';
import { ReplayGuard, verifyMessage, type HeaderBag } from './signing.js';

export interface EventReceiverOptions {
  /** the pairing secret of a transport; undefined when it is not paired with this controller */
  secretFor: (transportId: string) => Promise<string | undefined>;
  alreadySeen: (eventId: string) => Promise<boolean>;
  /** records the event so that `alreadySeen(event.id)` holds afterwards */
  accept: (event: TransportEvent) => Promise<void>;
  guard?: ReplayGuard;
}

export interface ReceivedRequest {
  method: string;
  /** path and query exactly as sent: it is part of what was signed */
  path: string;
  headers: HeaderBag;
  body: Buffer;
}

export interface ReceiverAnswer {
  status: number;
  body: { ok: boolean; message?: string };
}

/** Errors thrown by the callbacks propagate: the host answers 500 and the transport retries. */
export function createEventReceiver(opts: EventReceiverOptions): (req: ReceivedRequest) => Promise<ReceiverAnswer> {
  const guard = opts.guard ?? new ReplayGuard();
  // a retry may arrive while the first attempt is still being accepted (e.g. after a timeout)
  const accepting = new Set<string>();
  return async function receiveEvent(req) {
    const event = parseEvent(req.body);
    if (!event) return refuse(400, 'malformed event: expected a JSON object with id, transportId and type');
    const secret = await opts.secretFor(event.transportId);
    if (!secret) return refuse(401, 'unknown transport');
    const verdict = verifyMessage(secret, req.method, req.path, req.body, req.headers, guard);
    if (!verdict.ok) return refuse(401, verdict.reason);
    if (accepting.has(event.id)) return refuse(409, 'this event is being accepted; retry later');
    accepting.add(event.id);
    try {
      if (await opts.alreadySeen(event.id)) return { status: 200, body: { ok: true, message: 'duplicate' } };
      await opts.accept(event);
      return { status: 200, body: { ok: true } };
    } finally {
      accepting.delete(event.id);
    }
  };
}

const refuse = (status: number, message: string): ReceiverAnswer => ({ status, body: { ok: false, message } });

function parseEvent(body: Buffer): TransportEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const e = value as Partial<Record<'id' | 'transportId' | 'type', unknown>> | null;
  const isName = (v: unknown) => typeof v === 'string' && v.length > 0;
  return e && typeof e === 'object' && isName(e.id) && isName(e.transportId) && isName(e.type) ? (value as TransportEvent) : undefined;
}
