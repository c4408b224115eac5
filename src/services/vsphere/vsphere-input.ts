import { fail, ok, type Result } from '../errors.js';
import { UUID } from '../hosts/host-input.js';

/** A vSphere platform as a caller describes it; field names in messages are the legacy API's. */
export interface VSPlatformInput {
  name: string;
  /** vCenter or ESXi: `host`, `host:port` or an https URL */
  ip: string;
  userName: string;
  passwd: string;
  /** the transport server that will read the VMs' disks */
  transId: string;
  /** SHA-256 thumbprint (AA:BB:…) the certificate must have; without it, a self-signed one is recorded as first seen */
  certThumbprint?: string;
}

const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?$/;
const THUMBPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

export function checkPlatformName(name: string): Result<string> {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 64) return fail('INVALID_INPUT', `Name must be 1–64 characters (got ${trimmed.length}).`, 'Name');
  return ok(trimmed);
}

/** A host, host:port or https URL, kept as typed (the client finds /sdk under it). */
export function checkAddress(ip: string): Result<string> {
  const text = ip.trim();
  if (/^https?:\/\//i.test(text)) {
    try {
      new URL(text);
      return ok(text);
    } catch {
      return fail('INVALID_INPUT', `Ip is not a valid URL: "${text.slice(0, 80)}".`, 'Ip');
    }
  }
  if (!HOST.test(text)) return fail('INVALID_INPUT', `Ip must be a host name or IP address (optionally :port) of a vCenter or ESXi, or an https URL (got "${text.slice(0, 80)}").`, 'Ip');
  return ok(text);
}

export function checkCredentials(userName: string, passwd: string): Result<{ userName: string; passwd: string }> {
  if (!userName.trim() || userName.length > 255) return fail('INVALID_INPUT', 'UserName must be 1–255 characters.', 'UserName');
  if (!passwd || passwd.length > 255) return fail('INVALID_INPUT', 'Passwd must be 1–255 characters.', 'Passwd');
  return ok({ userName: userName.trim(), passwd });
}

export function checkTransId(transId: string): Result<string> {
  const id = transId.trim();
  if (!UUID.test(id)) return fail('NOT_FOUND', `TransId names no transport server (got "${id.slice(0, 64)}").`, 'TransId');
  return ok(id);
}

export function checkThumbprint(thumbprint: string | undefined): Result<string | undefined> {
  if (thumbprint === undefined || thumbprint.trim() === '') return ok(undefined);
  const t = thumbprint.trim().toUpperCase();
  if (!THUMBPRINT.test(t)) return fail('INVALID_INPUT', 'CertThumbprint must be a SHA-256 thumbprint: 32 hex bytes separated by colons (AA:BB:…).', 'CertThumbprint');
  return ok(t);
}
