import net from 'node:net';
import { FrameParser, type PooledFrame } from '../frame-reader.js';
import { BLOCK_STREAM_PROTOCOL, type HostPort } from '../protocol.js';
import { PeerError, parseProtocolError } from '../signed-http.js';

/** Bytes read from the socket at a time, into one buffer used again for every read. */
const READ_BUFFER_BYTES = 1024 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface BlockStreamRequest {
  address: HostPort;
  path: string;
  /** signature and other headers; content-type, length and the upgrade are added here */
  headers: Record<string, string>;
  body: Buffer;
  signal: AbortSignal;
  /** for connecting and for the agent's answer to start */
  timeoutMs: number;
}

/**
 * The transport's end of an agent's block stream: one HTTP/1.1 request upgraded to
 * `ferry-blocks/1`, then the frames on the raw connection.
 *
 * Written against `net` rather than `http` for speed: Node's HTTP client allocates a fresh
 * 64 KiB buffer for every socket read and parses each through the HTTP parser, which cost
 * 1.3 s of CPU per 1.2 GB here against 0.15 s for a socket reading into one reused buffer
 * (`onread`), and the transport has the disk to write meanwhile. Only the request and the
 * answer's head are HTTP, so little of HTTP is needed: the status line, and the length of an
 * error's body.
 *
 * Resolves once the agent agreed (101); a refusal rejects with the agent's PeerError.
 * Iterating yields frames as they complete, reading from the socket only when the consumer
 * wants more (backpressure reaches the agent through TCP); it throws when the connection
 * breaks, including in the middle of a frame.
 */
export function openBlockStream(req: BlockStreamRequest, parser: FrameParser): Promise<AsyncIterable<PooledFrame>> {
  const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const ready: PooledFrame[] = [];
  let head: Buffer | undefined = Buffer.alloc(0);
  let errorAnswer: { status: number; length: number; body: Buffer } | undefined;
  let failure: Error | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  let settle: { resolve: (it: AsyncIterable<PooledFrame>) => void; reject: (err: Error) => void };
  const opened = new Promise<AsyncIterable<PooledFrame>>((resolve, reject) => (settle = { resolve, reject }));

  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (err: Error) => {
    failure ??= err;
    settle.reject(failure);
    socket.destroy();
    notify();
  };

  /** The answer's head: 101 starts the frames; anything else is an error whose body follows. */
  const takeHead = (chunk: Buffer): Buffer | undefined => {
    head = Buffer.concat([head!, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES) throw new Error(`the agent's answer has no end of head within ${MAX_HEAD_BYTES} bytes`);
      return undefined;
    }
    const lines = head.subarray(0, end).toString('latin1').split('\r\n');
    const rest = head.subarray(end + 4);
    head = undefined;
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
    if (!status) throw new Error(`the agent answered something other than HTTP: ${lines[0].slice(0, 80)}`);
    if (status === 101) {
      socket.setTimeout(0);
      settle.resolve(frames());
      return rest;
    }
    const lengthLine = lines.find((l) => /^content-length:/i.test(l));
    const length = Math.min(MAX_ERROR_BODY_BYTES, lengthLine ? Number(lengthLine.split(':')[1]) : MAX_ERROR_BODY_BYTES);
    errorAnswer = { status, length, body: Buffer.alloc(0) };
    takeErrorBody(rest);
    return undefined;
  };
  const takeErrorBody = (chunk: Buffer) => {
    const answer = errorAnswer!;
    answer.body = Buffer.concat([answer.body, chunk]).subarray(0, answer.length);
    if (answer.body.length >= answer.length) fail(new PeerError(answer.status, parseProtocolError(answer.body.toString('utf8'))));
  };

  const socket = net.connect({
    host: req.address.host,
    port: req.address.port,
    onread: {
      buffer: readBuffer,
      callback: (bytes: number, buf: Uint8Array) => {
        try {
          let chunk: Buffer | undefined = Buffer.from(buf.buffer, buf.byteOffset, bytes);
          if (errorAnswer) takeErrorBody(chunk);
          else if (head) chunk = takeHead(chunk);
          if (chunk?.length && !failure) ready.push(...parser.push(chunk));
        } catch (err) {
          fail(err as Error);
          return false;
        }
        if (ready.length === 0) return true;
        notify();
        return false; // paused until the consumer has taken these frames
      },
    },
  });
  socket.setNoDelay(true);
  socket.setTimeout(req.timeoutMs, () => fail(new Error(`no answer from the agent at ${req.address.host}:${req.address.port} within ${req.timeoutMs / 1000} s`)));
  socket.on('error', (err) => fail(err));
  socket.on('close', () => {
    closed = true;
    if (errorAnswer) fail(new PeerError(errorAnswer.status, parseProtocolError(errorAnswer.body.toString('utf8'))));
    else if (head) fail(new Error('the agent closed the connection without answering'));
    notify();
  });
  const onAbort = () => fail(Object.assign(new Error('the read was cancelled'), { name: 'AbortError' }));
  if (req.signal.aborted) onAbort();
  else req.signal.addEventListener('abort', onAbort, { once: true });

  const requestHead = [
    `POST ${req.path} HTTP/1.1`,
    `Host: ${req.address.host.includes(':') ? `[${req.address.host}]` : req.address.host}:${req.address.port}`,
    'Content-Type: application/json',
    `Content-Length: ${req.body.length}`,
    'Connection: Upgrade',
    `Upgrade: ${BLOCK_STREAM_PROTOCOL}`,
    ...Object.entries(req.headers).map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n');
  socket.write(`${requestHead}\r\n\r\n`);
  socket.write(req.body);

  async function* frames(): AsyncGenerator<PooledFrame> {
    try {
      for (;;) {
        while (ready.length > 0) yield ready.shift()!;
        if (failure) throw failure;
        if (closed) {
          if (parser.midFrame) throw new Error('the agent closed the block stream in the middle of a frame');
          return;
        }
        const woken = new Promise<void>((resolve) => (wake = resolve));
        socket.resume(); // reading stops whenever onread returns false; this starts it again
        await woken;
      }
    } finally {
      req.signal.removeEventListener('abort', onAbort);
      socket.destroy();
    }
  }

  return opened;
}
