import { z } from 'zod';
import type { ServiceError } from '../services/errors.js';

/** Turns the first schema violation into a message naming the field as the caller spelled it. */
export function describeInvalidInput(error: z.ZodError, body: Record<string, unknown>): ServiceError {
  const issue = error.issues[0];
  const field = issue.path.join('.') || 'body';
  let value: unknown = body;
  for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  let rule: string;
  if (issue.code === 'invalid_type') {
    rule = value === undefined || value === null ? 'is required' : `must be ${article(issue.expected)}, not ${describe(value)}`;
  } else if (issue.code === 'too_small' && issue.origin === 'string') {
    rule = issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
  } else if (issue.code === 'too_big' && issue.origin === 'string') {
    rule = `must be at most ${issue.maximum} characters`;
  } else {
    rule = issue.message;
  }
  return { code: 'INVALID_INPUT', field, message: `${field} ${rule}.` };
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);
const describe = (value: unknown) => (Array.isArray(value) ? 'an array' : value === null ? 'null' : article(typeof value));

/** A legacy string field: required, non-empty, bounded so that no input can blow up a column. */
export const text = (max = 255) => z.string().min(1).max(max);
