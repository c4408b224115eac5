/** Reading JSON bodies without trusting them. */

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `body[key]` when it is an object. */
export const objectAt = (body: unknown, key: string): Json | undefined => (isObject(body) && isObject(body[key]) ? body[key] : undefined);

export const stringAt = (o: Json | undefined, key: string): string | undefined => (typeof o?.[key] === 'string' ? (o[key] as string) : undefined);

/** OpenStack's lenient booleans: true, "true", "True", "1", "yes", "on"… */
export function parseBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return undefined;
  const t = v.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(t)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(t)) return false;
  return undefined;
}

/** A positive integer given as a number or a string of digits (as cinderclient sends sizes). */
export function parsePositiveInt(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Where a resource answers itself, and where it lives without the version (Nova's and Cinder's `links`). */
export function links(root: string, collection: string, id: string): { href: string; rel: string }[] {
  const bookmarkRoot = root.replace(/\/v\d+(\.\d+)?(?=\/|$)/, '');
  return [
    { href: `${root}/${collection}/${id}`, rel: 'self' },
    { href: `${bookmarkRoot}/${collection}/${id}`, rel: 'bookmark' },
  ];
}
