import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { ProtocolError } from './protocol.js';

export const MAX_JSON_BODY_BYTES = 4 * 1024 * 1024;

/** Reads a request body, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, 'too-large', `the request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch (err) {
    throw new HttpError(400, 'bad-json', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = err instanceof HttpError ? err : new HttpError(500, 'internal', 'internal error');
  const body: ProtocolError = { error: e.code, message: e.message };
  sendJson(res, e.status, body);
}

export interface ListeningServer {
  url: string;
  port: number;
  /** drops open connections and stops listening */
  close(): Promise<void>;
}

/** Serves `route` on host:port; a thrown HttpError becomes its answer, anything else a logged 500. */
export async function serveRoutes(
  host: string,
  port: number,
  route: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  log: (msg: string) => void,
): Promise<ListeningServer> {
  const server = http.createServer((req, res) => {
    route(req, res).catch((err) => {
      if (!(err instanceof HttpError)) log(`request ${req.method} ${req.url} failed: ${(err as Error).stack ?? err}`);
      sendError(res, err);
    });
  });
  server.listen(port, host);
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
