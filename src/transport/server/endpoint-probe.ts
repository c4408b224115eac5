import net from 'node:net';
import tls from 'node:tls';
import type { EndpointProbe } from '../protocol.js';


export class ProbeFailure extends Error {
  constructor(
    readonly cause: 'unreachable' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Opens a connection to the endpoint (a TLS handshake for https) and closes it without sending
 * anything: whether this transport reaches it, and which certificate it is shown there.
 */
export function probeEndpoint(url: URL, timeoutMs = 10_000): Promise<EndpointProbe> {
  const secure = url.protocol === 'https:';
  const port = Number(url.port || (secure ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = secure ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false }) : net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new ProbeFailure('timeout', `no ${secure ? 'TLS handshake' : 'connection'} with ${url.host} within ${timeoutMs / 1000} s`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => reject(new ProbeFailure('unreachable', `cannot reach ${url.host}: ${err.code ?? err.message}`)));
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      const answer: EndpointProbe = { reachable: true };
      if (secure) {
        const s = socket as tls.TLSSocket;
        Object.assign(answer, { sha256: s.getPeerCertificate().fingerprint256, trusted: s.authorized });
      }
      socket.end();
      resolve(answer);
    });
  });
}
