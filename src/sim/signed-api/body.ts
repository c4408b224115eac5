import { z } from 'zod';
import { invalid } from './api-error.js';

/** A name as the contracts allow it: 1–128 characters, no control characters. */
export const resourceName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

/** The request body checked against its schema; 400 InvalidParameter naming the first bad field. */
export function readBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined) throw invalid('the request needs a JSON body');
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw invalid(`${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`);
}

/** null and absent mean the same: absent. */
export const orNull = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);
