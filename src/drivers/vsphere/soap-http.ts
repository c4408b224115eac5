import https from 'node:https';
import http from 'node:http';
import type { PeerCertificate } from '../../util/tls-peer.js';

export { CertificateRefused, pinnedAgent } from '../../util/pinned-agent.js';
export type { PeerCertificate };

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

/** GETs a small text file (a disk descriptor); rejects on a network failure, a timeout or more than `maxBytes`. */
export function getText(url: URL, agent: http.Agent, headers: Record<string, string>, timeoutMs: number, maxBytes: number): Promise<{ status: number; body: string }> {
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) return req.destroy(new Error(`${url.pathname} is larger than ${maxBytes} bytes`));
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { name: 'TimeoutError' })));
    req.on('error', reject);
  });
}
