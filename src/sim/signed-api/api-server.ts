import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { listen, type ListeningServer } from '../../util/listen.js';
import { ApiError, invalid } from './api-error.js';
import { parseQuery, Query } from './query.js';
import { matchRoute, Reply, type Route } from './router.js';
import { NonceMemory, verifySignature } from './verify-signature.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiServerOptions {
  host: string;
  port: number;
  accessKey: string;
  secretKey: string;
  /** delay before every answer */
  latencyMs: number;
  routes: Route[];
  log: (line: string) => void;
}

export type RunningApiServer = ListeningServer;

/** Serves the routes of one simulated cloud: every request signed, every answer JSON, every failure in the contract's error format. */
export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const keys = new Map([[opts.accessKey, opts.secretKey]]);
  const nonces = new NonceMemory();
  const server = http.createServer((req, res) => {
    const requestId = `req-${randomUUID()}`;
    answer(req)
      .then((reply) => send(res, reply.status, reply.body, requestId))
      .catch((err: unknown) => {
        const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `internal error (request ${requestId})`);
        if (!(err instanceof ApiError)) opts.log(`${req.method} ${req.url} failed: ${(err as Error)?.stack ?? err}`);
        send(res, e.status, { code: e.code, message: e.message, requestId }, requestId);
      });
  });

  async function answer(req: IncomingMessage): Promise<Reply> {
    // unref'd: a pending delay must not hold the process once the server has closed
    if (opts.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, opts.latencyMs).unref());
    const body = await readBody(req);
    const [path, rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s, 2);
    const pairs = parseQuery(rawQuery);
    const method = req.method ?? 'GET';
    verifySignature({ method, path, query: pairs, headers: req.headers, body }, keys, nonces);
    const { route, params } = matchRoute(opts.routes, method, path);
    const result = await route.handler({ params, query: new Query(pairs), body: parseBody(body) });
    return result instanceof Reply ? result : new Reply(200, result);
  }

  return listen(server, opts.host, opts.port);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw invalid(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw invalid(`the request body is not JSON: ${(err as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  if (res.headersSent || res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers: Record<string, string | number> = { 'x-request-id': requestId, 'content-length': Buffer.byteLength(text) };
  if (text) headers['content-type'] = 'application/json; charset=utf-8';
  res.writeHead(status, headers);
  res.end(text);
}
