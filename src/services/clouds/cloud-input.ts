import type { CloudSettings, CloudType } from '../../drivers/cloud/cloud-driver.js';
import { CLOUD_TYPES } from '../../drivers/cloud/cloud-driver.js';
import { fail, ok, type Result } from '../errors.js';

/** A cloud connection as a caller describes it; field names in messages are the legacy API's. */
export interface CloudConnectionInput {
  name: string;
  type: string;
  /** OpenStack project; CloudUltra 4 project name; none for AK/SK clouds */
  projectName?: string;
  /** Keystone user, or access key */
  user: string;
  /** Keystone password, or secret key */
  password: string;
  protocol?: string;
  /** Keystone port; the API port of AK/SK clouds when CloudAddr is a bare host */
  port?: string;
  /** Keystone host; an AK/SK cloud's domain name; CloudUltra 4's API URL */
  address: string;
  domain?: string;
  ownerId?: string;
  environmentId?: string;
  zoneId?: string;
  zoneName?: string;
  regionId?: string;
  regionName?: string;
}

/** Spec: 2–20 characters of English letters, digits, Chinese characters, `_` and `-`. */
const NAME_RULE = /^[A-Za-z0-9_\-\u3400-\u4dbf\u4e00-\u9fff]{2,20}$/u;
const HOST_RULE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})$/;

export function checkName(name: string, field = 'CloudName'): Result<string> {
  if (!NAME_RULE.test(name)) return fail('INVALID_INPUT', `${field} must be 2–20 characters of letters, digits, Chinese characters, _ or - (got "${name.slice(0, 40)}").`, field);
  return ok(name);
}

export function checkType(type: string): Result<CloudType> {
  const known = CLOUD_TYPES.find((t) => t.toLowerCase() === type.trim().toLowerCase());
  if (!known) return fail('INVALID_INPUT', `CloudType must be one of ${CLOUD_TYPES.map((t) => `"${t}"`).join(', ')} (got "${type.slice(0, 40)}").`, 'CloudType');
  return ok(known);
}

/** A bare host[:port] or an http(s) URL, turned into a base URL without a trailing slash. */
function baseUrl(address: string, protocol: 'http' | 'https', port: number | undefined, field: string, suffix = ''): Result<string> {
  const text = address.trim();
  if (/^https?:\/\//i.test(text)) {
    try {
      return ok(new URL(text).toString().replace(/\/+$/, ''));
    } catch {
      return fail('INVALID_INPUT', `${field} is not a valid URL: "${text.slice(0, 80)}".`, field);
    }
  }
  if (!HOST_RULE.test(text)) return fail('INVALID_INPUT', `${field} must be a host name, an IP address or an http(s) URL (got "${text.slice(0, 80)}").`, field);
  return ok(`${protocol}://${text}${port ? `:${port}` : ''}${suffix}`);
}

/** Checks a connection's fields and turns them into what its driver needs. */
export function toDriverSettings(input: CloudConnectionInput): Result<{ type: CloudType; settings: CloudSettings }> {
  const type = checkType(input.type);
  if (!type.ok) return type;
  // a public cloud is reached over https unless told otherwise (docs/clouds/huayun.md)
  const protocol = (input.protocol || (type.value === 'Huayun' ? 'https' : 'http')).toLowerCase();
  if (protocol !== 'http' && protocol !== 'https') return fail('INVALID_INPUT', `IdentityProtocal must be http or https (got "${protocol.slice(0, 20)}").`, 'IdentityProtocal');
  const port = input.port === undefined || input.port === '' ? undefined : Number(input.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) return fail('INVALID_INPUT', `IdentityPort must be a port number between 1 and 65535 (got "${String(input.port).slice(0, 20)}").`, 'IdentityPort');
  if (!input.user) return fail('INVALID_INPUT', 'CloudUser is required.', 'CloudUser');
  if (!input.password) return fail('INVALID_INPUT', 'CloudPass is required.', 'CloudPass');
  if (!input.address) return fail('INVALID_INPUT', 'CloudAddr is required.', 'CloudAddr');

  if (type.value === 'Openstack' || type.value === 'ArcherOS 2020') {
    if (!input.projectName || input.projectName === 'None') return fail('INVALID_INPUT', `ProjectName is required for ${type.value} (the Keystone project to work in).`, 'ProjectName');
    const host = input.address.trim();
    if (!HOST_RULE.test(host)) return fail('INVALID_INPUT', `CloudAddr must be the Keystone host name or IP address (got "${host.slice(0, 80)}").`, 'CloudAddr');
    const settings: CloudSettings = { kind: 'openstack', protocol, host: host.replace(/^\[|\]$/g, ''), port: port ?? 5000, user: input.user, password: input.password, project: input.projectName, domain: input.domain || 'Default' };
    return ok({ type: type.value, settings });
  }
  if (type.value === 'Huayun') {
    const endpoint = baseUrl(input.address, protocol, port, 'CloudAddr');
    if (!endpoint.ok) return endpoint;
    return ok({ type: type.value, settings: { kind: 'huayun', endpoint: endpoint.value, accessKey: input.user, secretKey: input.password, regionId: input.regionId || undefined } });
  }
  const apiUrl = baseUrl(input.address, protocol, port, 'CloudAddr', '/api');
  if (!apiUrl.ok) return apiUrl;
  return ok({
    type: type.value,
    settings: { kind: 'cloudultra', apiUrl: apiUrl.value, accessKey: input.user, secretKey: input.password, ownerId: input.ownerId || undefined, environmentId: input.environmentId || undefined, zoneId: input.zoneId || undefined },
  });
}
