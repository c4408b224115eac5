import type { EntityName, FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { fail, ok, type Result } from './errors.js';
/** A page of a list that grows, read by keyset (creation time, then id) so pages never shift. */
export interface Page<T> {
  items: { cursor: string; node: T }[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  totalCount: number;
}

export interface PageRequest {
  first: number;
  after?: string;
}

export interface Keyset {
  createdAt: Date;
  id: string;
}

export function encodeCursor(key: Keyset): string {
  return Buffer.from(JSON.stringify([key.createdAt.toISOString(), key.id])).toString('base64url');
}

/** The keyset a cursor names, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): Keyset | undefined {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const createdAt = new Date(at);
    if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(createdAt.getTime())) return undefined;
    return { createdAt, id };
  } catch {
    return undefined;
  }
}

/** One page of a table read by keyset (creation time, then id); a foreign cursor is refused. */
export async function keysetPage<E extends { id: string; createdAt: Date }>(
  em: EntityManager,
  entity: EntityName<E>,
  where: FilterQuery<E>,
  request: PageRequest,
): Promise<Result<Page<E>>> {
  const after = request.after === undefined ? undefined : decodeCursor(request.after);
  if (request.after !== undefined && !after) return fail('INVALID_INPUT', 'after is not a cursor of this list.', 'after');
  const keyset = after ? { $or: [{ createdAt: { $gt: after.createdAt } }, { createdAt: after.createdAt, id: { $gt: after.id } }] } : {};
  const [rows, totalCount] = await Promise.all([
    em.find(entity, { $and: [where, keyset] } as FilterQuery<E>, { orderBy: { createdAt: 'asc', id: 'asc' } as never, limit: request.first + 1 }),
    em.count(entity, where),
  ]);
  const items = rows.slice(0, request.first).map((node) => ({ cursor: encodeCursor(node), node }));
  return ok({ items, hasNextPage: rows.length > request.first, hasPreviousPage: after !== undefined, totalCount });
}
