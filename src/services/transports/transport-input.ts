import { TransportServType } from '../../../entities/index.js';
import { DEFAULT_TRANSPORT_PORT, parseAddress } from '../../transport/protocol.js';
import { fail, ok, type Result } from '../errors.js';

/** A transport server as a caller describes it; field names in messages are the legacy API's. */
export interface TransportServerInput {
  servType: string;
  name: string;
  /** the cloud connection it runs in: required for Cloud, absent for On-Premises */
  cloudId?: string | null;
  mgntAddr: string;
}

export const SERV_TYPES = [TransportServType.OnPremises, TransportServType.Cloud] as const;

/** "On-Premises" or "Cloud", in any case. */
export function checkServType(servType: string): Result<TransportServType> {
  const known = SERV_TYPES.find((t) => t.toLowerCase() === servType.trim().toLowerCase());
  if (!known) return fail('INVALID_INPUT', `ServType must be "On-Premises" or "Cloud" (got "${servType.slice(0, 40)}").`, 'ServType');
  return ok(known);
}

/** 1–64 characters once trimmed. */
export function checkName(name: string): Result<string> {
  const trimmed = name.trim();
  if (trimmed.length < 1 || [...trimmed].length > 64) {
    return fail('INVALID_INPUT', `Name must be 1–64 characters and not only spaces (got ${[...trimmed].length} characters).`, 'Name');
  }
  return ok(trimmed);
}

/**
 * `host` or `host:port` (7002 when omitted), written back as `host:port` so that one transport
 * has one spelling: "10.0.0.5" and "10.0.0.5:7002" are the same registration.
 */
export function checkAddress(mgntAddr: string): Result<string> {
  const address = parseAddress(mgntAddr, DEFAULT_TRANSPORT_PORT);
  if (!address || mgntAddr.length > 255) {
    return fail('INVALID_INPUT', `MgntAddr must be host or host:port, with a port between 1 and 65535 (${DEFAULT_TRANSPORT_PORT} when omitted) (got "${mgntAddr.slice(0, 80)}").`, 'MgntAddr');
  }
  const host = address.host.toLowerCase();
  return ok(`${host.includes(':') ? `[${host}]` : host}:${address.port}`);
}
