import net from 'node:net';
import type { EndpointProbe } from '../protocol.js';
import { probeTls } from '../../util/tls-peer.js';

export class ProbeFailure extends Error {
  constructor(
    readonly cause: 'unreachable' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Connects to the endpoint (a TLS handshake for https) and leaves without sending anything:
 * whether this transport reaches it, and which certificate it is shown there.
 */
export async function probeEndpoint(url: URL, timeoutMs = 10_000): Promise<EndpointProbe> {
  try {
    if (url.protocol === 'https:') {
      const { sha256, trusted } = await probeTls(url, timeoutMs);
      return { reachable: true, sha256, trusted };
    }
    await connectOnly(url, timeoutMs);
    return { reachable: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.name === 'TimeoutError') throw new ProbeFailure('timeout', e.message);
    throw new ProbeFailure('unreachable', `cannot reach ${url.host}: ${e.code ?? e.message}`);
  }
}

function connectOnly(url: URL, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error(`no connection with ${url.host} within ${timeoutMs / 1000} s`), { name: 'TimeoutError' })));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
  });
}
