import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { HashTable } from '../blocks.js';
import { HttpError, parseJson, readBody, readUpgradeBody, sendJson, serveRoutes, switchProtocols, type ListeningServer } from '../http-util.js';
import { Pairing } from '../pairing.js';
import { pairRequestSchema, readRequestSchema, validate } from '../protocol-schemas.js';
import { API_PREFIX, BLOCK_STREAM_PROTOCOL, PROTOCOL_VERSION, type AgentInfo, type DiskSize, type PairResponse } from '../protocol.js';
import { requireSignature } from '../signed-http.js';
import { ReplayGuard } from '../signing.js';
import { collectHostFacts } from './host-facts.js';
import { streamChangedBlocks } from './block-reader.js';
import { diskSizeBytes } from '../disk/disk-size.js';
import { open } from 'node:fs/promises';

/** a read request carries the target's hash table in base64: up to 8 TiB in 1 MiB blocks */
const READ_REQUEST_LIMIT = 96 * 1024 * 1024;

export interface AgentOptions {
  host: string;
  port: number;
  /** image files or devices to serve; empty: the machine's own disks */
  disks: string[];
  stateDir: string;
  log?: (msg: string) => void;
}

export type RunningAgent = ListeningServer;

/**
 * `ferry agent`: reports its machine's facts and serves its disks' blocks to the one transport it
 * is paired with. Everything but /v1/info and /v1/pair must be signed with the pairing secret.
 */
export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const log = opts.log ?? (() => {});
  const pairing = await Pairing.load(path.join(opts.stateDir, 'pairing.json'));
  const guard = new ReplayGuard();
  const given = opts.disks.map((d) => path.resolve(d));
  const served = async (): Promise<string[]> => (given.length ? given : (await collectHostFacts([])).disks.map((d) => d.path));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === `${API_PREFIX}/info`) {
      const info: AgentInfo = { protocol: PROTOCOL_VERSION, role: 'agent', hostname: os.hostname() };
      return sendJson(res, 200, { ...info, paired: pairing.paired });
    }
    if (url === `${API_PREFIX}/disks/read`) {
      throw new HttpError(426, 'upgrade-required', `the block stream is read with Connection: Upgrade, Upgrade: ${BLOCK_STREAM_PROTOCOL}`, { connection: 'Upgrade', upgrade: BLOCK_STREAM_PROTOCOL });
    }
    const body = await readBody(req);
    if (req.method === 'POST' && url === `${API_PREFIX}/pair`) {
      const { controllerId } = validate(pairRequestSchema.pick({ controllerId: true }), parseJson(body));
      const outcome = await pairing.pair(controllerId);
      if ('refused' in outcome) throw new HttpError(409, 'paired-elsewhere', outcome.refused);
      log(`paired with transport ${controllerId}`);
      const answer: PairResponse = { transportId: outcome.selfId, secret: outcome.secret };
      return sendJson(res, 200, answer);
    }
    await requireSignature(pairing, guard, req, body);
    if (req.method === 'GET' && url === `${API_PREFIX}/disks`) {
      // sizes only, without inspecting partitions: what a transport needs before each cycle
      const disks: DiskSize[] = [];
      for (const disk of await served()) {
        const handle = await open(disk, 'r').catch(() => undefined);
        if (!handle) continue;
        try {
          disks.push({ path: disk, sizeBytes: await diskSizeBytes(handle, disk) });
        } catch {
          // not a disk any more: left out, as in the facts
        } finally {
          await handle.close();
        }
      }
      return sendJson(res, 200, { disks });
    }
    if (req.method === 'GET' && url === `${API_PREFIX}/facts`) {
      return sendJson(res, 200, await collectHostFacts(opts.disks));
    }
    throw new HttpError(404, 'not-found', `no ${req.method} ${url} on an agent`);
  }

  /** `POST /v1/disks/read`, upgraded: the request as JSON, then the block stream on the raw connection. */
  async function readBlocks(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (req.method !== 'POST' || req.url !== `${API_PREFIX}/disks/read`) throw new HttpError(404, 'not-found', `no upgrade for ${req.method} ${req.url} on an agent`);
    if (req.headers.upgrade?.toLowerCase() !== BLOCK_STREAM_PROTOCOL) throw new HttpError(400, 'bad-upgrade', `an agent upgrades only to ${BLOCK_STREAM_PROTOCOL}`);
    const body = await readUpgradeBody(req, socket, head, READ_REQUEST_LIMIT);
    await requireSignature(pairing, guard, req, body);
    const request = validate(readRequestSchema, parseJson(body));
    if (!(await served()).includes(request.disk)) throw new HttpError(404, 'no-such-disk', `this agent serves no disk ${request.disk}`);
    const known = request.knownHashes === undefined ? undefined : HashTable.fromBytes(Buffer.from(request.knownHashes, 'base64'));
    let gone = false;
    socket.once('close', () => (gone = true));
    switchProtocols(socket, BLOCK_STREAM_PROTOCOL);
    socket.resume();
    await streamChangedBlocks(request.disk, {
      blockSize: request.blockSize,
      known,
      compress: request.compress,
      aborted: () => gone,
      send: async (parts) => {
        let ok = true;
        for (const part of parts) ok = socket.write(part) && ok;
        if (!ok && !gone) await new Promise<void>((resolve) => {
          const done = () => {
            socket.off('drain', done).off('close', done);
            resolve();
          };
          socket.on('drain', done).on('close', done);
        });
      },
    });
    socket.end();
  }

  return serveRoutes(opts.host, opts.port, route, log, readBlocks);
}
