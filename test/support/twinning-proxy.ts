import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A proxy to `target` that passes every request through untouched (its signature still holds) and
 * lists each server named `name` twice: a cloud breaking its own rule that server names are unique.
 */
export async function twinningProxy(target: string, name: string): Promise<{ url: string; close: () => void }> {
  const proxy = http.createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
      const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
      let text = await answer.text();
      if (req.method === 'GET' && /\/servers\?/.test(req.url ?? '') && answer.ok) {
        const page = JSON.parse(text) as { Servers: { ServerId: string; Name: string }[]; TotalCount: number };
        const twins = page.Servers.filter((s) => s.Name === name).map((s) => ({ ...s, ServerId: `${s.ServerId}-twin` }));
        page.Servers.push(...twins);
        page.TotalCount += twins.length;
        text = JSON.stringify(page);
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
    })().catch((err: Error) => res.writeHead(502).end(err.message));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, close: () => proxy.close() };
}
