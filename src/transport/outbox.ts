/**
 * Durable at-least-once delivery of a transport's events: one JSON file per event, named by its
 * zero-padded seq, written and fsynced before `append` returns; a sender delivers them one at a
 * time in seq order and deletes each once acknowledged. Receivers de-duplicate by event id.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { TransportEvent, TransportEventBody } from './protocol.js';

export interface OutboxOptions {
  dir: string;
  transportId: string;
  /** resolves when the receiver acknowledged the event; throws otherwise */
  deliver: (event: TransportEvent) => Promise<void>;
  log?: (msg: string, extra?: object) => void;
  minRetryMs?: number;
  maxRetryMs?: number;
}

const SEQ_FILE = 'seq';
const EVENT_FILE = /^(\d{16})\.json$/;
const fileName = (seq: number) => `${String(seq).padStart(16, '0')}.json`;

export class Outbox {
  private readonly queue: TransportEvent[] = [];
  /** cycleId → its pending cycle.progress, which a newer one replaces */
  private readonly progressByCycle = new Map<string, TransportEvent>();
  private readonly flushWaiters: (() => void)[] = [];
  private appending: Promise<unknown> = Promise.resolve();
  private inFlight: TransportEvent | undefined;
  private sender: { stop: AbortController; done: Promise<void> } | undefined;
  private workArrived: (() => void) | undefined;

  private constructor(
    private readonly opts: OutboxOptions,
    private nextSeq: number,
  ) {}

  /** Loads what a previous run left undelivered; the sender waits for `start()`. */
  static async open(opts: OutboxOptions): Promise<Outbox> {
    await mkdir(opts.dir, { recursive: true });
    const log = opts.log ?? (() => {});
    let highest = Number((await readFile(path.join(opts.dir, SEQ_FILE), 'utf8').catch(() => '0')).trim()) || 0;
    const events: TransportEvent[] = [];
    for (const name of (await readdir(opts.dir)).sort()) {
      // a temp file is a write that never returned to its caller: nobody was promised it
      if (name.endsWith('.tmp')) await unlink(path.join(opts.dir, name));
      const match = EVENT_FILE.exec(name);
      if (!match) continue;
      highest = Math.max(highest, Number(match[1]));
      const event = parseEvent(await readFile(path.join(opts.dir, name), 'utf8'), Number(match[1]));
      if (event) events.push(event);
      else {
        log('outbox: unreadable event file set aside', { file: name });
        await rename(path.join(opts.dir, name), path.join(opts.dir, `${name}.corrupt`));
      }
    }
    const outbox = new Outbox(opts, highest + 1);
    for (const event of events) await outbox.enqueue(event);
    return outbox;
  }

  /** Stores the event durably, then returns it; the sender delivers it later. */
  append(body: TransportEventBody): Promise<TransportEvent> {
    // one append at a time, so events enter the queue in seq order
    const appended = this.appending.then(async () => {
      const event: TransportEvent = { ...body, id: randomUUID(), seq: this.nextSeq++, transportId: this.opts.transportId, at: new Date().toISOString() };
      await writeDurably(this.opts.dir, fileName(event.seq), JSON.stringify(event));
      await this.enqueue(event);
      this.workArrived?.();
      return event;
    });
    this.appending = appended.catch(() => {});
    return appended;
  }

  start(): void {
    if (this.sender) return;
    const stop = new AbortController();
    this.sender = { stop, done: this.send(stop.signal) };
  }

  /** Ends the sender; an in-flight delivery finishes (or fails) first. Nothing is lost. */
  async stop(): Promise<void> {
    const sender = this.sender;
    if (!sender) return;
    sender.stop.abort();
    this.workArrived?.();
    await sender.done;
    this.sender = undefined;
  }

  pending(): number {
    return this.queue.length;
  }

  /** Resolves once every stored event has been delivered. */
  flushed(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  private async send(stop: AbortSignal): Promise<void> {
    let failures = 0;
    while (!stop.aborted) {
      const event = this.queue[0];
      if (!event) {
        await new Promise<void>((resolve) => (this.workArrived = resolve));
        this.workArrived = undefined;
        continue;
      }
      this.inFlight = event;
      try {
        await this.opts.deliver(event);
      } catch (err) {
        this.inFlight = undefined;
        const waitMs = this.backoff(++failures);
        this.log('outbox: delivery failed; will retry', { seq: event.seq, id: event.id, type: event.type, attempt: failures, retryInMs: waitMs, error: String(err) });
        await sleep(waitMs, stop);
        continue;
      }
      this.inFlight = undefined;
      failures = 0;
      await this.remove(event);
    }
  }

  private async enqueue(event: TransportEvent): Promise<void> {
    this.queue.push(event);
    if (event.type !== 'cycle.progress') return;
    const older = this.progressByCycle.get(event.cycleId);
    this.progressByCycle.set(event.cycleId, event);
    // a stale progress report is worthless once a newer one is stored; one being sent stays
    if (older && older !== this.inFlight && this.queue.includes(older)) await this.remove(older);
  }

  /** Forgets a delivered or superseded event and deletes its file. */
  private async remove(event: TransportEvent): Promise<void> {
    const index = this.queue.indexOf(event);
    if (index < 0) return;
    this.queue.splice(index, 1);
    if (event.type === 'cycle.progress' && this.progressByCycle.get(event.cycleId) === event) this.progressByCycle.delete(event.cycleId);
    try {
      // the seq file keeps the numbering going once the last event file is gone
      if (!this.queue.some((e) => e.seq > event.seq)) await writeDurably(this.opts.dir, SEQ_FILE, String(this.nextSeq - 1));
      await unlink(path.join(this.opts.dir, fileName(event.seq)));
    } catch (err) {
      // left on disk it is sent again after a restart, which receivers shrug off as a duplicate
      this.log('outbox: could not delete an event file', { seq: event.seq, error: String(err) });
    }
    if (this.queue.length === 0) for (const resolve of this.flushWaiters.splice(0)) resolve();
  }

  private backoff(failures: number): number {
    const min = this.opts.minRetryMs ?? 200;
    const base = Math.min(this.opts.maxRetryMs ?? 5000, min * 2 ** Math.min(failures - 1, 30));
    // jitter keeps many transports from retrying in lockstep after a controller outage
    return Math.max(min, Math.round(base * (0.5 + Math.random() / 2)));
  }

  private log(msg: string, extra?: object): void {
    this.opts.log?.(msg, extra);
  }
}

/** Write to a temp file, fsync, rename over the target, fsync the directory. */
async function writeDurably(dir: string, name: string, text: string): Promise<void> {
  const tmp = path.join(dir, `${name}.tmp`);
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path.join(dir, name));
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

function parseEvent(text: string, seq: number): TransportEvent | undefined {
  try {
    const event = JSON.parse(text) as TransportEvent;
    return event?.seq === seq && typeof event.id === 'string' && typeof event.type === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop.addEventListener('abort', done);
  });
}
