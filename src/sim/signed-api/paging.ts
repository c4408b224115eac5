import type { Query } from './query.js';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** One page of `items` under `key`, as every collection GET of the contracts answers. */
export function page(query: Query, key: string, items: unknown[]): Record<string, unknown> {
  const pageNumber = query.int('PageNumber', 1, 1_000_000, 1);
  const pageSize = query.int('PageSize', 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE);
  const start = (pageNumber - 1) * pageSize;
  return { [key]: items.slice(start, start + pageSize), TotalCount: items.length, PageNumber: pageNumber, PageSize: pageSize };
}
