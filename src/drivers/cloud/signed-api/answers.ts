import { z } from 'zod';
import { CloudError } from '../cloud-driver.js';
import type { Method, QueryValues, SignedApiClient } from './signed-client.js';

/** Largest page the contracts allow. */
export const PAGE_SIZE = 100;

/** The answer checked against the contract's shape; anything else is a bad-response CloudError. */
export function readAnswer<S extends z.ZodType>(cloud: string, call: string, schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'the answer';
  throw new CloudError('bad-response', cloud, call, `unexpected answer: ${where}: ${issue?.message ?? 'invalid'}`);
}

/** One call whose answer holds `key`: the object or list under it. */
export async function fetchOne<S extends z.ZodType>(api: SignedApiClient, cloud: string, call: string, method: Method, path: string, key: string, schema: S, input: { query?: QueryValues; body?: unknown } = {}): Promise<z.output<S>> {
  const body = await api.request(call, method, path, input);
  return (readAnswer(cloud, call, z.object({ [key]: schema }), body) as Record<string, z.output<S>>)[key];
}

/** Every item of a paged list (`PageNumber`, `PageSize` → `TotalCount`), in the cloud's order. */
export async function listAll<S extends z.ZodType>(api: SignedApiClient, cloud: string, call: string, path: string, key: string, item: S, query: QueryValues = {}): Promise<z.output<S>[]> {
  const page = z.object({ [key]: z.array(item), TotalCount: z.number().int().nonnegative() });
  const items: z.output<S>[] = [];
  for (let pageNumber = 1; ; pageNumber++) {
    const body = readAnswer(cloud, call, page, await api.request(call, 'GET', path, { query: { ...query, PageNumber: pageNumber, PageSize: PAGE_SIZE } }));
    const got = (body as Record<string, z.output<S>[]>)[key];
    items.push(...got);
    if (got.length < PAGE_SIZE || items.length >= (body.TotalCount as number)) return items;
  }
}
