import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventReceiver } from '../src/transport/event-receiver.js';
import { httpEventDeliverer } from '../src/transport/event-delivery.js';
import { readBody, sendJson } from '../src/transport/http-util.js';
import { Outbox } from '../src/transport/outbox.js';
import { SIGNATURE_HEADERS, type CycleStatus, type TransportEvent, type TransportEventBody } from '../src/transport/protocol.js';
import { ReplayGuard, signMessage, verifyMessage } from '../src/transport/signing.js';
import { sleep, within } from './support/wait.js';

const SECRET = 'pairing-secret-of-tr-1';
const TRANSPORT_ID = 'tr-1';

describe('signed messages between Ferry and a transport', () => {
  const body = JSON.stringify({ cycleId: 'c1' });
  const path = '/v1/cycles?dryRun=1';

  it('accepts a message signed with the pairing secret', () => {
    const headers = signMessage(SECRET, 'post', path, body);
    expect(Object.keys(headers).sort()).toEqual(Object.values(SIGNATURE_HEADERS).sort());
    expect(verifyMessage(SECRET, 'POST', path, Buffer.from(body), headers, new ReplayGuard())).toEqual({ ok: true });
  });

  it('refuses a message whose body, path, method or timestamp was altered', () => {
    const headers = signMessage(SECRET, 'POST', path, body);
    const laterTimestamp = { ...headers, [SIGNATURE_HEADERS.timestamp]: String(Number(headers[SIGNATURE_HEADERS.timestamp]) + 1) };
    for (const [method, p, b, h] of [
      ['POST', path, body.replace('c1', 'c2'), headers],
      ['POST', '/v1/cycles?dryRun=0', body, headers],
      ['PUT', path, body, headers],
      ['POST', path, body, laterTimestamp],
    ] as const) {
      expect(verifyMessage(SECRET, method, p, b, h, new ReplayGuard())).toEqual({ ok: false, reason: 'bad signature' });
    }
  });

  it('refuses a message signed with another secret', () => {
    const headers = signMessage('some-other-secret', 'POST', path, body);
    expect(verifyMessage(SECRET, 'POST', path, body, headers, new ReplayGuard())).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('refuses the same message sent twice as replayed', () => {
    const guard = new ReplayGuard();
    const headers = signMessage(SECRET, 'POST', path, body);
    expect(verifyMessage(SECRET, 'POST', path, body, headers, guard).ok).toBe(true);
    const again = verifyMessage(SECRET, 'POST', path, body, headers, guard);
    expect(again.ok).toBe(false);
    expect(!again.ok && again.reason).toMatch(/^replayed/);
  });

  it('refuses a message stamped six minutes ago, or with a missing or malformed timestamp', () => {
    const now = Date.now();
    const stale = signMessage(SECRET, 'POST', path, body, now - 6 * 60_000);
    expect(verifyMessage(SECRET, 'POST', path, body, stale, new ReplayGuard(), now)).toEqual({ ok: false, reason: 'timestamp too old or in the future' });
    const { [SIGNATURE_HEADERS.nonce]: _nonce, ...noNonce } = signMessage(SECRET, 'POST', path, body);
    expect(verifyMessage(SECRET, 'POST', path, body, noNonce, new ReplayGuard()).ok).toBe(false);
    const malformed = { ...signMessage(SECRET, 'POST', path, body), [SIGNATURE_HEADERS.timestamp]: '17e11' };
    expect(verifyMessage(SECRET, 'POST', path, body, malformed, new ReplayGuard())).toMatchObject({ ok: false, reason: expect.stringMatching(/^malformed timestamp/) });
  });

  it('does not let a forged message use up the nonce of the genuine one', () => {
    const guard = new ReplayGuard();
    const genuine = signMessage(SECRET, 'POST', path, body);
    const forged = { ...genuine, [SIGNATURE_HEADERS.signature]: signMessage('guess', 'POST', path, body)[SIGNATURE_HEADERS.signature] };
    expect(verifyMessage(SECRET, 'POST', path, body, forged, guard).ok).toBe(false);
    expect(verifyMessage(SECRET, 'POST', path, body, genuine, guard)).toEqual({ ok: true });
  });

  it('refuses new messages when its memory is full, and forgets nonces once they expired', () => {
    const guard = new ReplayGuard({ ttlMs: 1000, maxEntries: 2 });
    expect(guard.remember('nonce-0001', 0).ok).toBe(true);
    expect(guard.remember('nonce-0002', 10).ok).toBe(true);
    expect(guard.remember('nonce-0003', 20)).toMatchObject({ ok: false, reason: expect.stringMatching(/too many/) });
    expect(guard.remember('nonce-0003', 1005).ok).toBe(true);
    expect(guard.size).toBe(2);
  });
});

describe('events from a transport reach Ferry exactly once, in order', () => {
  let dir: string;
  const outboxes: Outbox[] = [];
  const receivers: TestReceiver[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-outbox-'));
  });
  afterEach(async () => {
    await Promise.all(outboxes.splice(0).map((o) => o.stop()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    await rm(dir, { recursive: true, force: true });
  });

  const openOutbox = async (port: number) => {
    const outbox = await Outbox.open({
      dir,
      transportId: TRANSPORT_ID,
      deliver: httpEventDeliverer({ callbackUrl: () => callbackUrl(port), secret: () => SECRET, timeoutMs: 2000 }),
      minRetryMs: 20,
      maxRetryMs: 200,
    });
    outboxes.push(outbox);
    return outbox;
  };
  const receiverOn = async (port: number, behaviour: ReceiverBehaviour = {}) => {
    const receiver = await startReceiver(port, behaviour);
    receivers.push(receiver);
    return receiver;
  };
  const eventFiles = async () => (await readdir(dir)).filter((name) => name.endsWith('.json'));

  it('delivers twenty events once each, in order, and leaves no event files behind', async () => {
    const port = await freePort();
    const receiver = await receiverOn(port);
    const outbox = await openOutbox(port);
    outbox.start();
    const sent: TransportEvent[] = [];
    for (let i = 0; i < 20; i++) sent.push(await outbox.append(cancelled(i)));
    await within(outbox.flushed(), 10_000, 'twenty events delivered');
    expect(receiver.accepted.map((e) => e.id)).toEqual(sent.map((e) => e.id));
    expect(sent.map((e) => e.seq)).toEqual(sent.map((_, i) => i + 1));
    expect(await eventFiles()).toEqual([]);
  });

  it('keeps events while Ferry is unreachable and delivers them all once it is back', async () => {
    const port = await freePort();
    const outbox = await openOutbox(port);
    outbox.start();
    const sent: TransportEvent[] = [];
    for (let i = 0; i < 5; i++) sent.push(await outbox.append(cancelled(i)));
    await sleep(700);
    for (let i = 5; i < 10; i++) sent.push(await outbox.append(cancelled(i)));
    await sleep(800);
    expect(outbox.pending()).toBe(10);
    const receiver = await receiverOn(port);
    await within(outbox.flushed(), 10_000, 'events delivered after the outage');
    expect(receiver.accepted.map((e) => e.id)).toEqual(sent.map((e) => e.id));
  });

  it('retries refused events and lost acknowledgements without counting anything twice', async () => {
    const port = await freePort();
    // every event is refused twice; every third one is accepted but its acknowledgement is lost
    const receiver = await receiverOn(port, { failFirst: 2, loseAckOnce: (e) => e.seq % 3 === 0 });
    const outbox = await openOutbox(port);
    outbox.start();
    const sent: TransportEvent[] = [];
    for (let i = 0; i < 12; i++) sent.push(await outbox.append(cancelled(i)));
    await within(outbox.flushed(), 20_000, 'events delivered despite a flaky receiver');
    expect(receiver.accepted.map((e) => e.id)).toEqual(sent.map((e) => e.id));
    expect(receiver.duplicates).toBe(4);
    for (const e of sent) expect(receiver.attempts.get(e.id)).toBe(e.seq % 3 === 0 ? 4 : 3);
  });

  it('delivers what a transport stored before a restart, and never reuses a seq', async () => {
    const port = await freePort();
    const before = await openOutbox(port);
    before.start();
    const stored: TransportEvent[] = [];
    for (let i = 0; i < 5; i++) stored.push(await before.append(cancelled(i)));
    await sleep(300);
    await before.stop();
    expect(await eventFiles()).toHaveLength(5);
    // a crash in the middle of an append leaves a temp file that nobody was promised
    await writeFile(path.join(dir, '0000000000000006.json.tmp'), '{"type":"cycle.canc');

    const receiver = await receiverOn(port);
    const after = await openOutbox(port);
    expect(after.pending()).toBe(5);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    after.start();
    await within(after.flushed(), 10_000, 'events stored before the restart delivered');
    expect(receiver.accepted.map((e) => e.id)).toEqual(stored.map((e) => e.id));
    expect((await after.append(cancelled(5))).seq).toBe(6);
    await within(after.flushed(), 10_000, 'the sixth event delivered');
    await after.stop();

    // everything was delivered and deleted: the numbering still goes on
    expect(await eventFiles()).toEqual([]);
    const again = await openOutbox(port);
    expect((await again.append(cancelled(6))).seq).toBe(7);
  });

  it('sends only the latest progress of a cycle that piled up during an outage, and every other event', async () => {
    const port = await freePort();
    const outbox = await openOutbox(port);
    outbox.start();
    // the first event is what the sender keeps retrying, so no progress report is in flight
    const first = await outbox.append(cancelled(0));
    const progressA = [];
    for (let i = 1; i <= 4; i++) progressA.push(await outbox.append(progress('cA', i * 10)));
    const failed = await outbox.append({ type: 'cycle.failed', taskId: 't1', cycleId: 'cB', failure: { cause: 'agent-lost', message: 'gone', retryable: true } });
    const progressB = await outbox.append(progress('cB', 50));
    const lastA = await outbox.append(progress('cA', 90));
    expect(outbox.pending()).toBe(4);
    expect(await eventFiles()).toHaveLength(4);

    const receiver = await receiverOn(port);
    await within(outbox.flushed(), 10_000, 'events delivered after the outage');
    expect(receiver.accepted.map((e) => e.id)).toEqual([first.id, failed.id, progressB.id, lastA.id]);
    expect(progressA).toHaveLength(4);
  });

  it('refuses forged events without accepting them', async () => {
    const port = await freePort();
    const receiver = await receiverOn(port);
    const event: TransportEvent = { ...cancelled(0), id: randomUUID(), seq: 1, transportId: TRANSPORT_ID, at: new Date().toISOString() };
    const url = new URL(callbackUrl(port));
    const target = url.pathname + url.search;
    const post = (body: string, headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

    const body = JSON.stringify(event);
    const wrongSecret = await post(body, signMessage('not-the-secret', 'POST', target, body));
    expect(wrongSecret.status).toBe(401);
    expect(await wrongSecret.json()).toEqual({ ok: false, message: 'bad signature' });

    const altered = JSON.stringify({ ...event, cycleId: 'someone-elses' });
    expect((await post(altered, signMessage(SECRET, 'POST', target, body))).status).toBe(401);

    const stranger = JSON.stringify({ ...event, transportId: 'tr-unknown' });
    expect(await (await post(stranger, signMessage(SECRET, 'POST', target, stranger))).json()).toEqual({ ok: false, message: 'unknown transport' });
    expect((await post('{"id":', {})).status).toBe(400);
    expect(receiver.accepted).toEqual([]);

    const genuine = signMessage(SECRET, 'POST', target, body);
    expect((await post(body, genuine)).status).toBe(200);
    const replayed = await post(body, genuine);
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toMatchObject({ ok: false, message: expect.stringMatching(/^replayed/) });
    expect(receiver.accepted.map((e) => e.id)).toEqual([event.id]);
  });
});

// ---------------------------------------------------------------- a controller's event endpoint

interface ReceiverBehaviour {
  /** answer 500 to the first N attempts of each event, before looking at it */
  failFirst?: number;
  /** accept the event, then drop the connection instead of acknowledging, once */
  loseAckOnce?: (event: TransportEvent) => boolean;
}

interface TestReceiver {
  accepted: TransportEvent[];
  attempts: Map<string, number>;
  duplicates: number;
  close(): Promise<void>;
}

async function startReceiver(port: number, behaviour: ReceiverBehaviour): Promise<TestReceiver> {
  const seen = new Set<string>();
  const acksLost = new Set<string>();
  const state: TestReceiver = { accepted: [], attempts: new Map(), duplicates: 0, close: async () => {} };
  const receive = createEventReceiver({
    secretFor: async (id) => (id === TRANSPORT_ID ? SECRET : undefined),
    alreadySeen: async (id) => seen.has(id),
    accept: async (event) => {
      seen.add(event.id);
      state.accepted.push(event);
    },
  });
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const id = String(tryParse(body)?.id);
    const attempt = (state.attempts.get(id) ?? 0) + 1;
    state.attempts.set(id, attempt);
    if (attempt <= (behaviour.failFirst ?? 0)) return sendJson(res, 500, { ok: false, message: 'not now' });
    const answer = await receive({ method: req.method!, path: req.url!, headers: req.headers, body });
    if (answer.body.message === 'duplicate') state.duplicates++;
    const event = state.accepted.at(-1);
    if (answer.status === 200 && event?.id === id && behaviour.loseAckOnce?.(event) && !acksLost.has(id)) {
      acksLost.add(id);
      return req.socket.destroy();
    }
    sendJson(res, answer.status, answer.body);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

// ---------------------------------------------------------------- helpers

const callbackUrl = (port: number) => `http://127.0.0.1:${port}/v1/transport-events?from=${TRANSPORT_ID}`;

const cancelled = (i: number): TransportEventBody => ({ type: 'cycle.cancelled', taskId: 't1', cycleId: `c${i}` });

function progress(cycleId: string, percent: number): TransportEventBody {
  const status: CycleStatus = {
    cycleId,
    taskId: 't1',
    kind: 'full',
    state: 'running',
    startedAt: new Date().toISOString(),
    disks: [{ disk: '/dev/sda', targetPath: '/dev/vdb', sizeBytes: 100, scannedBytes: percent, sentBlocks: 0, zeroBlocks: 0, unchangedBlocks: 0, wireBytes: 0, writtenBytes: 0 }],
    rateBytesPerSec: 0,
  };
  return { type: 'cycle.progress', taskId: 't1', cycleId, progress: status };
}

function tryParse(body: Buffer): { id?: unknown } | undefined {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A port nobody listens on (yet): connections to it are refused. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
