import { badRequest } from './errors.js';
import type { Json } from './input.js';

/** Lists: OpenStack's limit/marker paging and Neutron's field filters. */

export interface Page<T> {
  items: T[];
  /** `<collection>_links` when more items follow */
  links?: { rel: 'next'; href: string }[];
}

/** One page after `marker`, at most `limit` long; a next link when the page is full and more follow. */
export function paginate<T extends { id: string }>(items: T[], query: URLSearchParams, listUrl: string): Page<T> {
  const limitText = query.get('limit');
  const marker = query.get('marker');
  let start = 0;
  if (marker !== null) {
    const at = items.findIndex((i) => i.id === marker);
    if (at < 0) throw badRequest(`marker [${marker}] not found`);
    start = at + 1;
  }
  if (limitText === null) return { items: items.slice(start) };
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`limit param must be an integer`);
  const page = items.slice(start, start + limit);
  if (page.length === 0 || start + limit >= items.length) return { items: page };
  const next = new URLSearchParams(query);
  next.set('marker', page[page.length - 1].id);
  return { items: page, links: [{ rel: 'next', href: `${listUrl}?${next}` }] };
}

const NOT_FILTERS = new Set(['fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse', 'fixed_ips', 'all_tenants']);

/** Neutron's query filters: `?name=x&name=y` keeps items whose `name` is x or y (for lists: contains one). */
export function neutronFilter(views: Json[], query: URLSearchParams): Json[] {
  const keys = [...new Set(query.keys())].filter((k) => !NOT_FILTERS.has(k));
  return views.filter((v) =>
    keys.every((k) => {
      const wanted = query.getAll(k);
      const actual = v[k];
      const values = Array.isArray(actual) ? actual : [actual];
      return values.some((a) => wanted.includes(a === null ? '' : String(a)) || (typeof a === 'boolean' && wanted.some((w) => w.toLowerCase() === String(a))));
    }),
  );
}

/** Neutron's `?fields=id&fields=name`: only those attributes. */
export function selectFields(views: Json[], query: URLSearchParams): Json[] {
  const fields = query.getAll('fields').flatMap((f) => f.split(',')).filter(Boolean);
  if (fields.length === 0) return views;
  return views.map((v) => Object.fromEntries(fields.filter((f) => f in v).map((f) => [f, v[f]])));
}
