import type { IncomingHttpHeaders } from 'node:http';
import { ApiError, badRequest } from './errors.js';

/** A microversion, `2.47` as [2, 47]. */
export type Microversion = readonly [number, number];

export interface MicroversionRange {
  /** the service type in `OpenStack-API-Version: <service> 2.47` */
  service: 'compute' | 'volume';
  min: Microversion;
  max: Microversion;
  /** Nova's older header, X-OpenStack-Nova-API-Version */
  legacyHeader?: string;
}

export const COMPUTE_VERSIONS: MicroversionRange = { service: 'compute', min: [2, 1], max: [2, 96], legacyHeader: 'x-openstack-nova-api-version' };
export const VOLUME_VERSIONS: MicroversionRange = { service: 'volume', min: [3, 0], max: [3, 70] };

export const atLeast = (v: Microversion, major: number, minor: number) => v[0] > major || (v[0] === major && v[1] >= minor);
export const formatVersion = (v: Microversion) => `${v[0]}.${v[1]}`;

/** The microversion a request asks for (the minimum when it asks none), as oslo's microversion_parse reads it. */
export function requestedVersion(headers: IncomingHttpHeaders, range: MicroversionRange): Microversion {
  const text = fromStandardHeader(headers['openstack-api-version'], range.service) ?? headerText(range.legacyHeader ? headers[range.legacyHeader] : undefined);
  if (text === undefined) return range.min;
  if (text.toLowerCase() === 'latest') return range.max;
  const m = /^(\d+)\.(\d+)$/.exec(text);
  if (!m) throw badRequest(`API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`);
  const v: Microversion = [Number(m[1]), Number(m[2])];
  if (!atLeast(v, ...range.min) || !atLeast(range.max, ...v)) {
    throw new ApiError(406, `Version ${text} is not supported by the API. Minimum is ${formatVersion(range.min)} and maximum is ${formatVersion(range.max)}.`);
  }
  return v;
}

/** Headers that tell which microversion answered. */
export function versionHeaders(v: Microversion, range: MicroversionRange): Record<string, string> {
  const headers: Record<string, string> = { 'OpenStack-API-Version': `${range.service} ${formatVersion(v)}`, Vary: 'OpenStack-API-Version' };
  if (range.legacyHeader) {
    headers['X-OpenStack-Nova-API-Version'] = formatVersion(v);
    headers.Vary = 'OpenStack-API-Version, X-OpenStack-Nova-API-Version';
  }
  return headers;
}

const headerText = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(',') : h)?.trim() || undefined;

/** `OpenStack-API-Version: compute 2.47, volume 3.10` → `2.47` for compute. */
function fromStandardHeader(h: string | string[] | undefined, service: string): string | undefined {
  const text = headerText(h);
  if (!text) return undefined;
  for (const part of text.split(',')) {
    const [name, value] = part.trim().split(/\s+/);
    if (name?.toLowerCase() === service && value) return value;
  }
  return undefined;
}
