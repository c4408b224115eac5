import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { listen, type ListeningServer } from '../util/listen.js';
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
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = err instanceof HttpError ? err : new HttpError(500, 'internal', 'internal error');
  const body: ProtocolError = { error: e.code, message: e.message };
  sendJson(res, e.status, body, e.headers);
}

/** Connections already switched to another protocol: an error there can only close them. */
const switched = new WeakSet<Duplex>();

/** Answers an upgrade request with 101: from here on the connection speaks `protocol`. */
export function switchProtocols(socket: Duplex, protocol: string): void {
  switched.add(socket);
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n\r\n`);
}

/** Answers a refused upgrade request with a plain HTTP error, as `sendError` does, and closes. */
function refuseUpgrade(socket: Duplex, err: unknown): void {
  if (switched.has(socket) || socket.destroyed) {
    socket.destroy();
    return;
  }
  const e = err instanceof HttpError ? err : new HttpError(500, 'internal', 'internal error');
  const text = JSON.stringify({ error: e.code, message: e.message } satisfies ProtocolError);
  const head = [`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}`, 'content-type: application/json', `content-length: ${Buffer.byteLength(text)}`, 'connection: close'];
  socket.end(`${head.join('\r\n')}\r\n\r\n${text}`);
}

/** Reads the body of an upgrade request (Node leaves it on the socket), refusing more than `limit` bytes. */
export async function readUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer, limit: number, timeoutMs = 30_000): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared === undefined) throw new HttpError(411, 'length-required', 'the request needs a Content-Length');
  const length = Number(declared);
  if (!Number.isSafeInteger(length) || length < 0) throw new HttpError(400, 'bad-length', `Content-Length "${declared}" is not a length`);
  if (length > limit) throw new HttpError(413, 'too-large', `the request body is larger than ${limit} bytes`);
  const chunks = [head];
  let got = head.length;
  if (got < length) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new HttpError(408, 'timeout', `the request body did not arrive within ${timeoutMs / 1000} s`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        got += chunk.length;
        if (got >= length) done();
      };
      const onEnd = () => done(new HttpError(400, 'truncated', 'the connection ended before the request body'));
      function done(err?: Error) {
        clearTimeout(timer);
        socket.off('data', onData).off('end', onEnd).off('close', onEnd);
        socket.pause();
        if (err) reject(err);
        else resolve();
      }
      socket.on('data', onData).on('end', onEnd).on('close', onEnd);
    });
  }
  return Buffer.concat(chunks).subarray(0, length);
}

export type UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;

export type { ListeningServer };

/** Serves `route` on host:port; a thrown HttpError becomes its answer, anything else a logged 500. */
export async function serveRoutes(
  host: string,
  port: number,
  route: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  log: (msg: string) => void,
  upgrade?: UpgradeRoute,
): Promise<ListeningServer> {
  const server = http.createServer((req, res) => {
    route(req, res).catch((err) => {
      if (!(err instanceof HttpError)) log(`request ${req.method} ${req.url} failed: ${(err as Error).stack ?? err}`);
      sendError(res, err);
    });
  });
  if (upgrade) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy()); // a peer gone mid-stream is not our fault
      upgrade(req, socket, head).catch((err) => {
        if (!(err instanceof HttpError)) log(`upgrade ${req.method} ${req.url} failed: ${(err as Error).stack ?? err}`);
        refuseUpgrade(socket, err);
      });
    });
  }
  return listen(server, host, port);
}
