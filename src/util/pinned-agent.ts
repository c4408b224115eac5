import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { describePeer, type PeerCertificate } from './tls-peer.js';

export class CertificateRefused extends Error {
  constructor(
    readonly reason: 'untrusted' | 'changed',
    readonly seen: PeerCertificate,
    message: string,
  ) {
    super(message);
  }
}

/**
 * An agent that accepts a certificate when an authority vouches for it, or when its SHA-256
 * thumbprint is the pinned one, and only then hands the socket over: nothing (no password) is
 * written to a server before its certificate passed. `onCertificate` sees every certificate.
 */
export function pinnedAgent(pinnedSha256: string | undefined, onCertificate?: (c: PeerCertificate) => void): https.Agent {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });
  (agent as unknown as { createConnection: unknown }).createConnection = (options: tls.ConnectionOptions, done: (err: Error | null, socket?: Duplex) => void) => {
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    socket.once('error', (err) => done(err));
    socket.once('secureConnect', () => {
      const seen = describePeer(socket);
      onCertificate?.(seen);
      const pinned = pinnedSha256?.toUpperCase();
      if (pinned && seen.sha256 !== pinned) {
        socket.destroy();
        return done(new CertificateRefused('changed', seen, `the TLS certificate changed: its SHA-256 thumbprint is ${seen.sha256}, not ${pinned} as recorded`));
      }
      if (!pinned && !seen.trusted) {
        socket.destroy();
        return done(new CertificateRefused('untrusted', seen, `the TLS certificate is not signed by a trusted authority (${socket.authorizationError}); its SHA-256 thumbprint is ${seen.sha256}`));
      }
      done(null, socket);
    });
    return undefined;
  };
  return agent;
}
