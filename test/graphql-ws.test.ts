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
  for (const n of [40, 200, 1000]) {
    const r = (await raw(`subscription { licenseChanged { ${'id '.repeat(n)} } }`)) as { out: { payload?: { message: string }[] }[] };
    const msgs = r.out.flatMap((m) => m.payload ?? []).map((e) => e.message);
    console.log(n, msgs.length, [...new Set(msgs)].slice(0, 5));
  }
  const q = `subscription { licenseChanged { ${'__typename '.repeat(2600)} } }`;
  const r = (await raw(q)) as { out: { payload?: { message: string }[] }[] };
  console.log('typename', JSON.stringify(r).slice(0, 300));
  void graphql;
});
