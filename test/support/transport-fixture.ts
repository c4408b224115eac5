import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { serveEventReceiver } from '../../src/transport/event-endpoint.js';
import { createEventReceiver } from '../../src/transport/event-receiver.js';
import type { ListeningServer } from '../../src/transport/http-util.js';
import type { CycleStatus, TransportEvent } from '../../src/transport/protocol.js';
import { TransportClient } from '../../src/transport/transport-client.js';
import { freePort } from './ports.js';
import { sleep } from './wait.js';

const ferryBin = path.resolve('bin/ferry.js');

export interface FerryProcess {
  proc: ChildProcess;
  addr: string;
  port: number;
  /** the arguments after --listen, to start it again alike */
  args: string[];
  output: () => string;
  /** SIGTERM and wait; or SIGKILL with `kill9` */
  stop(kill9?: boolean): Promise<void>;
}

/** Runs `ferry agent` or `ferry transport` as a real process and waits until it listens. */
export async function spawnFerry(command: 'agent' | 'transport', args: string[], port?: number, env: NodeJS.ProcessEnv = process.env): Promise<FerryProcess> {
  const listenPort = port ?? (await freePort());
  const proc = spawn(process.execPath, [ferryBin, command, '--listen', `127.0.0.1:${listenPort}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  for (const end = Date.now() + 20_000; !out.includes('listening on'); ) {
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`ferry ${command} did not start: ${out}`);
    await sleep(50);
  }
  return {
    proc,
    addr: `127.0.0.1:${listenPort}`,
    port: listenPort,
    args,
    output: () => out,
    async stop(kill9 = false) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(kill9 ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
  };
}

/** A controller's event endpoint on loopback, using Ferry's own receiver; it can go down and come back. */
export class EventSink {
  readonly events: TransportEvent[] = [];
  secret = '';
  private server?: ListeningServer;
  private readonly receive = createEventReceiver({
    secretFor: async () => this.secret || undefined,
    alreadySeen: async (id) => this.events.some((e) => e.id === id),
    accept: async (event) => void this.events.push(event),
  });

  constructor(readonly port: number) {}

  static async create(): Promise<EventSink> {
    const sink = new EventSink(await freePort());
    await sink.up();
    return sink;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/transport-events`;
  }

  async up(): Promise<void> {
    this.server = await serveEventReceiver(this.receive, '127.0.0.1', this.port);
  }

  async down(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  of(cycleId: string, type: TransportEvent['type']): TransportEvent[] {
    return this.events.filter((e) => 'cycleId' in e && e.cycleId === cycleId && e.type === type);
  }
}

/** A transport and a paired controller with its event sink. */
export async function pairedTransport(transportAddr: string, sink: EventSink, controllerId = 'ferry-under-test'): Promise<TransportClient> {
  const client = new TransportClient(transportAddr);
  sink.secret = (await client.pair(controllerId, sink.url)).secret;
  return client;
}

export async function waitForCycle(client: TransportClient, cycleId: string, ms = 60_000): Promise<CycleStatus> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
    const cycle = (await client.status()).cycles.find((c) => c.cycleId === cycleId);
    if (cycle && cycle.state !== 'running') return cycle;
  }
  throw new Error(`cycle ${cycleId} still running after ${ms} ms`);
}

export async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A sparse image: `sizeMiB` of zeros with random (or text) data written at the given MiB offsets. */
export async function makeImage(file: string, sizeMiB: number, dataAtMiB: number[], fill: 'random' | 'text' = 'random'): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.truncate(sizeMiB * 1024 * 1024);
    for (const at of dataAtMiB) await handle.write(fillBlock(fill), 0, 1024 * 1024, at * 1024 * 1024);
  } finally {
    await handle.close();
  }
}

export function fillBlock(fill: 'random' | 'text'): Buffer {
  if (fill === 'random') return randomBytes(1024 * 1024);
  const line = Buffer.from(`${randomBytes(8).toString('hex')} a line of a log file that compresses well\n`);
  return Buffer.alloc(1024 * 1024, line);
}

/** Overwrites whole 1 MiB blocks with new random data. */
export async function rewriteBlocks(file: string, blocks: number[]): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    for (const b of blocks) await handle.write(randomBytes(1024 * 1024), 0, 1024 * 1024, b * 1024 * 1024);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
