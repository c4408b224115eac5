import https from 'node:https';
import http from 'node:http';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

/** What the server's TLS certificate was, as vSphere clients show it. */
export interface PeerCertificate {
  /** SHA-256 of the DER, `AA:BB:…` */
  sha256: string;
  /** SHA-1 of the DER, `AA:BB:…` (what vSphere's own tools show) */
  sha1: string;
  /** whether a certificate authority this machine trusts vouches for it */
  trusted: boolean;
  subject: string;
}

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
      const cert = socket.getPeerCertificate();
      const seen: PeerCertificate = { sha256: cert.fingerprint256, sha1: cert.fingerprint, trusted: socket.authorized, subject: [cert.subject?.CN ?? ''].flat().join(', ') };
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

export interface SoapAnswer {
  status: number;
  body: string;
  setCookie: string[];
}

/** POSTs one SOAP envelope; rejects on a network failure or when `timeoutMs` passes. */
export function postSoap(url: URL, agent: http.Agent, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SoapAnswer> {
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'POST', agent, headers: { 'content-type': 'text/xml; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), setCookie: res.headers['set-cookie'] ?? [] }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { name: 'TimeoutError' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** The certificate a TLS server shows, without sending it anything (to show and record its thumbprint). */
export function probeCertificate(url: URL, timeoutMs: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port || 443), servername: isIP(url.hostname) ? undefined : url.hostname, rejectUnauthorized: false });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error(`no TLS handshake within ${timeoutMs / 1000} s`), { name: 'TimeoutError' })));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      resolve({ sha256: cert.fingerprint256, sha1: cert.fingerprint, trusted: socket.authorized, subject: [cert.subject?.CN ?? ''].flat().join(', ') });
      socket.end();
    });
  });
}
