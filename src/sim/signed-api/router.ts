import { notFound } from './api-error.js';
import type { Query } from './query.js';

export interface RequestContext {
  params: Record<string, string>;
  query: Query;
  /** the parsed JSON body; undefined when empty */
  body: unknown;
}

/** A handler's answer: a plain value is a 200 with that body. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {}
}
export const accepted = (body: unknown) => new Reply(202, body);
export const noContent = () => new Reply(204);

export type Handler = (ctx: RequestContext) => unknown | Promise<unknown>;
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** segments; `:name` matches one segment */
  pattern: string;
  handler: Handler;
}

export const get = (pattern: string, handler: Handler): Route => ({ method: 'GET', pattern, handler });
export const post = (pattern: string, handler: Handler): Route => ({ method: 'POST', pattern, handler });
export const del = (pattern: string, handler: Handler): Route => ({ method: 'DELETE', pattern, handler });

/** The route for method + path (still percent-encoded) and its decoded parameters; 404 when none. */
export function matchRoute(routes: Route[], method: string, path: string): { route: Route; params: Record<string, string> } {
  const segments = path.split('/');
  for (const route of routes) {
    const parts = route.pattern.split('/');
    if (route.method !== method || parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = parts.every((p, i) => {
      if (!p.startsWith(':')) return p === segments[i];
      params[p.slice(1)] = safeDecode(segments[i]);
      return segments[i] !== '';
    });
    if (ok) return { route, params };
  }
  throw notFound(`no such API: ${method} ${path}`);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
