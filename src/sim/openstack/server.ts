import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, type ListeningServer } from '../../util/listen.js';
import { cinderRoutes } from './cinder.js';
import { ApiError, badRequest, errorBody, notFound, unauthenticated, type ErrorStyle } from './errors.js';
import { newRequestId } from './ids.js';
import { keystoneRoutes, liveToken } from './keystone.js';
import { COMPUTE_VERSIONS, requestedVersion, versionHeaders, VOLUME_VERSIONS, type Microversion, type MicroversionRange } from './microversion.js';
import { neutronRoutes } from './neutron.js';
import { novaRoutes } from './nova.js';
import { matchRoute, type Reply, type Route, type SimRequest } from './router.js';
import type { SimState, Token } from './state.js';

/** One HTTP server for the four services, told apart by path prefix (see catalog.ts). */

interface Service {
  prefix: string;
  errors: ErrorStyle;
  routes: Route[];
  versions?: MicroversionRange;
  /** the version segment a project id may follow (`/v2.1/{project_id}/servers`) */
  projectAfter?: string;
  /** keystonemiddleware sits in front: no token, no 404 */
  middlewareAuth: boolean;
  root: (publicUrl: string, projectId: string) => string;
  extraHeaders?: (requestId: string) => Record<string, string>;
}

const SERVICES: Service[] = [
  {
    prefix: '/compute',
    errors: 'fault',
    routes: novaRoutes,
    versions: COMPUTE_VERSIONS,
    projectAfter: '/v2.1',
    middlewareAuth: true,
    root: (u) => `${u}/compute/v2.1`,
    extraHeaders: (id) => ({ 'X-Compute-Request-Id': id }),
  },
  { prefix: '/network', errors: 'neutron', routes: neutronRoutes, middlewareAuth: true, root: (u) => `${u}/network` },
  { prefix: '/volume', errors: 'fault', routes: cinderRoutes, versions: VOLUME_VERSIONS, projectAfter: '/v3', middlewareAuth: true, root: (u, p) => `${u}/volume/v3/${p}` },
  { prefix: '', errors: 'keystone', routes: keystoneRoutes, middlewareAuth: false, root: (u) => `${u}/v3` },
];

const MAX_BODY_BYTES = 1024 * 1024;

export type SimServer = ListeningServer;

export async function startHttpServer(state: SimState, host: string, port: number, latencyMs: number): Promise<SimServer> {
  const server = http.createServer((req, res) => {
    answer(state, req, res, latencyMs).catch(() => res.destroy());
  });
  return listen(server, host, port);
}

async function answer(state: SimState, req: IncomingMessage, res: ServerResponse, latencyMs: number): Promise<void> {
  const requestId = newRequestId();
  const url = requestUrl(req);
  const service = SERVICES.find((s) => url.pathname === s.prefix || url.pathname.startsWith(`${s.prefix}/`))!;
  const headers: Record<string, string> = { 'X-Openstack-Request-Id': requestId, ...service.extraHeaders?.(requestId) };
  try {
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const raw = await readBody(req);
    const reply = await dispatch(state, service, req, url, raw, headers);
    send(res, reply.status, reply.body, { ...headers, ...reply.headers });
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError(500, 'The server has either erred or is incapable of performing the requested operation.');
    if (!(err instanceof ApiError)) process.stderr.write(`openstack simulator: ${req.method} ${url.pathname}: ${(err as Error).stack ?? String(err)}\n`);
    if (e.status === 401) headers['WWW-Authenticate'] = `Keystone uri="${state.options.publicUrl}/v3"`;
    send(res, e.status, errorBody(e, service.errors), headers);
  }
}

/** The request's path and query; `//x` stays a path (not a host), and garbage becomes a path nothing serves. */
function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(`http://sim${req.url?.startsWith('/') ? req.url : '/'}`);
  } catch {
    return new URL('http://sim/unreadable-url');
  }
}

async function dispatch(state: SimState, service: Service, req: IncomingMessage, url: URL, raw: Buffer, headers: Record<string, string>): Promise<Reply> {
  const method = req.method ?? 'GET';
  let path = url.pathname.slice(service.prefix.length) || '/';
  if (service.errors === 'neutron') path = path.replace(/\.json$/, ''); // Neutron still takes /v2.0/networks.json
  const urlProject = service.projectAfter ? takeProjectId(path, service.projectAfter) : undefined;
  if (urlProject) path = urlProject.path;
  const match = matchRoute(service.routes, method, path);
  const needsToken = match && 'route' in match ? match.route.auth !== 'none' : service.middlewareAuth;
  const token = needsToken ? tokenOf(state, req) : undefined;
  if (!match) throw notFound('The resource could not be found.');
  if ('allowed' in match) {
    headers.Allow = match.allowed.join(', ');
    throw new ApiError(405, `The method ${method} is not allowed for this resource.`);
  }
  const { route, params } = match;
  if (route.auth === 'project' && !token?.projectId) throw unauthenticated();
  const projectId = token?.projectId ?? '';
  if (urlProject && urlProject.projectId !== projectId) {
    throw badRequest(`Malformed request URL: URL's project_id '${urlProject.projectId}' doesn't match Context's project_id '${projectId}'`);
  }
  let version: Microversion = [0, 0];
  if (service.versions) {
    version = requestedVersion(req.headers, service.versions);
    Object.assign(headers, versionHeaders(version, service.versions));
  }
  const simReq: SimRequest = {
    method,
    path,
    params,
    query: url.searchParams,
    headers: req.headers,
    body: parseBody(raw, service.errors),
    token: token!,
    projectId,
    version,
    root: service.root(state.options.publicUrl, projectId),
    state,
  };
  return route.handle(simReq);
}

/** `/v2.1/<32 hex>/servers` → `/v2.1/servers`, remembering the project id. */
function takeProjectId(path: string, after: string): { path: string; projectId: string } | undefined {
  const m = /^(\/v[\d.]+)\/([0-9a-f]{32})(?=\/|$)/.exec(path);
  if (!m || m[1] !== after) return undefined;
  return { path: m[1] + (path.slice(m[0].length) || ''), projectId: m[2] };
}

function tokenOf(state: SimState, req: IncomingMessage): Token {
  const header = req.headers['x-auth-token'];
  const token = liveToken(state, typeof header === 'string' ? header : undefined);
  if (!token) throw unauthenticated();
  return token;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `Request is too large: more than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const MALFORMED: Record<ErrorStyle, string> = {
  keystone: 'The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
  fault: 'Malformed request body',
  neutron: 'Malformed JSON in request body.',
};

function parseBody(raw: Buffer, style: ErrorStyle): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(MALFORMED[style]);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (res.headersSent) return void res.destroy();
  const text = body === undefined || status === 204 ? '' : JSON.stringify(body);
  res.writeHead(status, { ...headers, ...(text && { 'Content-Type': 'application/json' }), 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
