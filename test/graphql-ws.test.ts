import { afterAll, beforeAll, it } from 'vitest';
import WebSocket from 'ws';
import { graphql } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';

let t: TestFerry;
let token: string;
beforeAll(async () => { t = await startTestFerry(); token = await adminToken(t.url); });
afterAll(() => t.close());

function raw(query: string): Promise<unknown> {
  return new Promise((resolve) => {
    const s = new WebSocket(`${t.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const out: unknown[] = [];
    s.on('open', () => s.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: token } })));
    s.on('message', (d) => {
      const m = JSON.parse(d.toString());
      out.push(m);
      if (m.type === 'connection_ack') s.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query } }));
      if (m.type === 'error') { s.close(); }
    });
    s.on('close', (code, r) => resolve({ out, code, reason: r.toString() }));
    setTimeout(() => s.close(), 1500);
  });
}
const nest = (n: number) => '... on License { '.repeat(n) + 'id' + ' }'.repeat(n);
it('probe', async () => {
  const aliases = Array.from({ length: 25 }, (_, i) => `a${i}: id`).join(' ');
  for (const q of [
    `subscription { licenseChanged { ${nest(19)} } }`,
    `subscription { licenseChanged { ${nest(18)} } }`,
    `subscription { licenseChanged { ${'id '.repeat(2700)} } }`,
    `subscription { licenseChanged { ${'id '.repeat(6000)} } }`,
  ]) console.log(q.slice(0, 60), JSON.stringify(await raw(q)).slice(0, 400));
  const h2 = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: token }, body: JSON.stringify({ query: `{ license { ${'id '.repeat(6000)} } }` }) });
  console.log('HTTP tokens', h2.status, (await h2.text()).slice(0, 300));
  const h3 = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: token }, body: JSON.stringify({ query: `{ license { id ` }) });
  console.log('HTTP syntax', h3.status, (await h3.text()).slice(0, 300));
  void graphql;
});
