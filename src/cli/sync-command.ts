import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createEventReceiver } from '../transport/event-receiver.js';
import { serveEventReceiver } from '../transport/event-endpoint.js';
import type { CycleKind, TransportEvent } from '../transport/protocol.js';
import { TransportClient } from '../transport/transport-client.js';

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/**
 * `ferry sync`: a one-shot controller for trying a transport and an agent without Ferry. It pairs
 * with the transport (keeping the secret in --state), runs one cycle, and prints the progress the
 * transport reports through its signed events.
 */
export async function runSync(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      transport: { type: 'string', default: '127.0.0.1:7002' },
      agent: { type: 'string', default: '127.0.0.1:7001' },
      disk: { type: 'string' },
      target: { type: 'string' },
      kind: { type: 'string', default: 'full' },
      compress: { type: 'boolean', default: false },
      qos: { type: 'string', default: '0' },
      state: { type: 'string', default: '.ferry-sync' },
    },
  });
  if (!values.disk || !values.target) throw new Error('--disk (the agent\'s disk path) and --target (a path on the transport) are required');
  if (values.kind !== 'full' && values.kind !== 'incremental') throw new Error('--kind must be full or incremental');
  const qos = Number(values.qos);
  if (!(qos >= 0)) throw new Error('--qos must be MB/s, 0 for no cap');

  const events: TransportEvent[] = [];
  let secret = '';
  const receive = createEventReceiver({ secretFor: async () => secret || undefined, alreadySeen: async (id) => events.some((e) => e.id === id), accept: async (e) => void events.push(e) });
  let wake: () => void = () => {};
  const server = await serveEventReceiver(receive, '127.0.0.1', 0, () => wake());
  const callbackUrl = `${server.url}/events`;
  try {
    await mkdir(values.state, { recursive: true, mode: 0o700 });
    const secretFile = path.join(values.state, 'controller.json');
    // reuse the secret of an earlier run; pair only when there is none or the transport refuses it
    const stored = await readFile(secretFile, 'utf8').then((t) => JSON.parse(t).secret as string, () => undefined);
    const client = new TransportClient(values.transport, stored);
    secret = stored ?? '';
    if (!stored || !(await client.status().then(() => true, () => false))) {
      secret = (await client.pair(`ferry-sync-${os.hostname()}`, callbackUrl)).secret;
      await writeFile(secretFile, JSON.stringify({ secret }), { mode: 0o600 });
    }
    await client.setCallback(callbackUrl);
    const cycleId = `sync-${randomUUID()}`;
    await client.startCycle({ cycleId, taskId: `sync-${createHash('sha256').update(values.disk).digest('hex').slice(0, 16)}`, agentAddr: values.agent, kind: values.kind as CycleKind, compress: values.compress, qosMBps: qos || undefined, disks: [{ disk: values.disk, targetPath: values.target }] });
    process.stdout.write(`cycle ${cycleId}: ${values.kind} copy of ${values.agent}:${values.disk} into ${values.transport}:${values.target}\n`);
    let shown = '';
    for (;;) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 1000);
      });
      const mine = events.filter((e) => 'cycleId' in e && e.cycleId === cycleId);
      const last = mine.at(-1);
      if (!last || last.id === shown) continue;
      shown = last.id;
      if (last.type === 'cycle.progress') {
        const d = last.progress.disks[0];
        const pct = d.sizeBytes ? Math.floor((d.scannedBytes / d.sizeBytes) * 100) : 0;
        process.stdout.write(`  ${pct}% read, ${mb(d.wireBytes)} MB on the wire, ${mb(last.progress.rateBytesPerSec)} MB/s\n`);
      } else if (last.type === 'cycle.finished') {
        const d = last.disks[0];
        process.stdout.write(`finished in ${(last.durationMs / 1000).toFixed(1)} s: ${d.sentBlocks} blocks sent, ${d.zeroBlocks} zero, ${d.unchangedBlocks} unchanged; ${mb(d.wireBytes)} MB on the wire; digest ${d.digest}\n`);
        return 0;
      } else if (last.type === 'cycle.failed') {
        process.stdout.write(`failed (${last.failure.cause}): ${last.failure.message}\n`);
        return 1;
      } else {
        process.stdout.write(`${last.type}\n`);
        return 1;
      }
    }
  } finally {
    await server.close();
  }
}
