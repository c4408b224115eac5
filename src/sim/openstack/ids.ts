import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** A new resource id (Nova, Neutron, Cinder spell them as dashed UUIDs). */
export const newId = (): string => randomUUID();

/** A Keystone id: 32 hex digits, no dashes. */
export const newKeystoneId = (): string => randomUUID().replaceAll('-', '');

/** The same UUID for the same seed name on every start, so tests and demos can name seeded resources. */
export function stableId(seed: string): string {
  const h = createHash('sha1').update(`ferry-sim-openstack:${seed}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A stable Keystone-style id (32 hex digits). */
export const stableKeystoneId = (seed: string): string => stableId(seed).replaceAll('-', '');

/** Looks like a Fernet token (they all start with gAAAAA). */
export const newTokenId = (): string => `gAAAAAB${randomBytes(132).toString('base64url')}`;

export const newRequestId = (): string => `req-${randomUUID()}`;

/** fa:16:3e:xx:xx:xx, Neutron's default base MAC. */
export const newMac = (): string => ['fa', '16', '3e', ...[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');

// ---------------------------------------------------------------- timestamps, as each service writes them

/** Keystone: 2015-11-06T15:32:17.893000Z */
export const keystoneTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
/** Nova and Neutron: 2017-02-14T19:23:59Z */
export const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Cinder: 2018-11-29T06:50:07.770000 (no zone) */
export const cinderTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000');
