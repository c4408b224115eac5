import { DEFAULT_AGENT_PORT, parseAddress } from '../../transport/protocol.js';
import { fail, ok, type Result } from '../errors.js';

/** An agent host as a caller describes it; field names in messages are the legacy API's. */
export interface AgentHostInput {
  name: string;
  transId: string;
  mgntAddr: string;
}

export { UUID } from '../../util/uuid.js';

/** 1–32 characters once trimmed (the document's limit). */
export function checkHostName(name: string): Result<string> {
  const trimmed = name.trim();
  const length = [...trimmed].length;
  if (length < 1 || length > 32) return fail('INVALID_INPUT', `Name must be 1–32 characters and not only spaces (got ${length} characters).`, 'Name');
  return ok(trimmed);
}

/** `host` or `host:port` (7001 when omitted), stored as `host:port` so that one agent has one spelling. */
export function checkAgentAddress(mgntAddr: string, field = 'MgntAddr'): Result<string> {
  const address = parseAddress(mgntAddr, DEFAULT_AGENT_PORT);
  if (!address || mgntAddr.length > 255) {
    return fail('INVALID_INPUT', `${field} must be host or host:port, with a port between 1 and 65535 (${DEFAULT_AGENT_PORT} when omitted) (got "${mgntAddr.slice(0, 80)}").`, field);
  }
  const host = address.host.toLowerCase();
  return ok(`${host.includes(':') ? `[${host}]` : host}:${address.port}`);
}
