import { isIP } from 'node:net';
import tls from 'node:tls';

/** A TLS server's certificate as vSphere clients show it. */
export interface PeerCertificate {
  /** SHA-256 of the DER, `AA:BB:…` */
  sha256: string;
  /** SHA-1 of the DER, `AA:BB:…` (what vSphere's own tools show) */
  sha1: string;
  /** whether a certificate authority this machine trusts vouches for it */
  trusted: boolean;
  subject: string;
}

/** The certificate of a connected TLS socket. */
export function describePeer(socket: tls.TLSSocket): PeerCertificate {
  const cert = socket.getPeerCertificate();
  return { sha256: cert.fingerprint256, sha1: cert.fingerprint, trusted: socket.authorized, subject: [cert.subject?.CN ?? ''].flat().join(', ') };
}

/**
 * The certificate a TLS server at `url` shows, after a handshake and nothing else sent. Rejects
 * with the socket's error, or a `TimeoutError` when no handshake ends within `timeoutMs`.
 */
export function probeTls(url: URL, timeoutMs: number): Promise<PeerCertificate> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port: Number(url.port || 443), servername: isIP(host) ? undefined : host, rejectUnauthorized: false });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error(`no TLS handshake with ${url.host} within ${timeoutMs / 1000} s`), { name: 'TimeoutError' })));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      resolve(describePeer(socket));
      socket.end();
    });
  });
}
