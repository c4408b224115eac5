import type { IncomingHttpHeaders } from 'node:http';
import type { SimState, Token } from './state.js';
import type { Microversion } from './microversion.js';

/** One request as a service handler sees it: the path is relative to the service's root. */
export interface SimRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** the parsed JSON body; undefined when there was none */
  body: unknown;
  /** the caller's token (routes that need one) */
  token: Token;
  /** the project the token is scoped to ('' for an unscoped token) */
  projectId: string;
  /** the microversion asked for (Nova, Cinder) */
  version: Microversion;
  /** the service's public root, e.g. http://127.0.0.1:5000/compute/v2.1 */
  root: string;
  state: SimState;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  /** `/servers/:id/os-volume_attachments` */
  pattern: string;
  /** `project`: a token scoped to a project; `any`: any valid token; `none`: no token (version documents, issuing a token) */
  auth: AuthNeed;
  handle: (req: SimRequest) => Reply | Promise<Reply>;
}

export type AuthNeed = 'project' | 'any' | 'none';

export const route = (method: string, pattern: string, handle: Route['handle'], auth: AuthNeed = 'project'): Route => ({ method, pattern, auth, handle });

export type RouteMatch = { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined;

/** The route for a method and path, the methods the path allows when the method is wrong, or undefined. */
export function matchRoute(routes: Route[], method: string, path: string): RouteMatch {
  const segments = split(path);
  const allowed: string[] = [];
  for (const r of routes) {
    const params = matchPattern(split(r.pattern), segments);
    if (!params) continue;
    if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { route: r, params };
    allowed.push(r.method);
  }
  return allowed.length ? { allowed } : undefined;
}

const split = (path: string) => path.split('/').filter((s) => s !== '');

function matchPattern(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) params[pattern[i].slice(1)] = safeDecode(segments[i]);
    else if (pattern[i] !== segments[i]) return undefined;
  }
  return params;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
