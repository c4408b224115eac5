import { PeerError } from '../../transport/signed-http.js';
import { fail, type Result } from '../errors.js';

export const RESET_HINT = 'run `ferry transport --reset-pairing` (with its --state) on that machine';

/**
 * A transport's failure as a service refusal naming its address: unreachable or failing is
 * TRANSPORT_ERROR; paired with another controller is CONFLICT, with what to do about it.
 */
export function transportFailure<T>(mgntAddr: string, err: unknown, field?: string): Result<T> {
  if (!(err instanceof Error)) throw err;
  const where = `transport at ${mgntAddr}`;
  if (err instanceof SyntaxError) return fail('TRANSPORT_ERROR', `${where} did not answer as a Ferry transport (its answer is not JSON).`, field);
  if (!(err instanceof PeerError)) return fail('TRANSPORT_ERROR', `${where} cannot be reached: ${reason(err)}.`, field);
  if (err.status === 409 && err.detail.error === 'paired-elsewhere') {
    // the transport's own words tell a stale pairing with this Ferry from another controller's
    const ours = /this controller/.test(err.detail.message);
    const why = ours ? 'is already paired with this Ferry (it was registered before, perhaps under another address)' : 'is paired with another controller';
    return fail('CONFLICT', `${where} ${why}; to register it here, ${RESET_HINT}, then try again.`, field);
  }
  if (err.status === 401) {
    return fail('TRANSPORT_ERROR', `${where} refuses Ferry's signature (${err.detail.message}): its pairing was reset or changed; ${RESET_HINT}, then refresh it.`, field);
  }
  return fail('TRANSPORT_ERROR', `${where} answered HTTP ${err.status}: ${err.detail.message}`, field);
}

/** Runs a transport call and turns its failure into a refusal. */
export async function fromTransport<T>(mgntAddr: string, call: () => Promise<T>, field?: string): Promise<Result<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    return transportFailure<T>(mgntAddr, err, field);
  }
}

/** The network's reason (`connect ECONNREFUSED 127.0.0.1:7002`, a timeout), without a stack. */
function reason(err: Error): string {
  const cause = (err as { cause?: { message?: string } }).cause;
  const text = err.message || cause?.message || err.name;
  return text.replace(/\.$/, '');
}
