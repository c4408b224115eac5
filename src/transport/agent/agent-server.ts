import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { HashTable } from '../blocks.js';
import { HttpError, parseJson, readBody, sendJson, serveRoutes, type ListeningServer } from '../http-util.js';
import { Pairing } from '../pairing.js';
import { pairRequestSchema, readRequestSchema, validate } from '../protocol-schemas.js';
import { API_PREFIX, PROTOCOL_VERSION, type AgentInfo, type DiskSize, type PairResponse } from '../protocol.js';
import { requireSignature } from '../signed-http.js';
import { ReplayGuard } from '../signing.js';
import { collectHostFacts } from './host-facts.js';
import { streamChangedBlocks } from './block-reader.js';
import { diskSizeBytes } from '../disk/disk-size.js';
import { open } from 'node:fs/promises';

/** knownHashes of disks up to 8 TiB at 1 MiB blocks, in base64 */
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
    // a read request carries the target's hash table: 8 bytes a block, 16 MiB for 2 TiB in 1 MiB blocks
    const body = await readBody(req, url === `${API_PREFIX}/disks/read` ? READ_REQUEST_LIMIT : undefined);
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
    if (req.method === 'POST' && url === `${API_PREFIX}/disks/read`) {
      const request = validate(readRequestSchema, parseJson(body));
      if (!(await served()).includes(request.disk)) throw new HttpError(404, 'no-such-disk', `this agent serves no disk ${request.disk}`);
      let known: HashTable | undefined;
      if (request.knownHashes !== undefined) {
        known = HashTable.fromBytes(Buffer.from(request.knownHashes, 'base64'));
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let gone = false;
      res.on('close', () => (gone = !res.writableFinished));
      await streamChangedBlocks(request.disk, {
        blockSize: request.blockSize,
        known,
        compress: request.compress,
        aborted: () => gone,
        send: async (parts) => {
          let ok = true;
          for (const part of parts) ok = res.write(part) && ok;
          if (!ok && !gone) await Promise.race([once(res, 'drain'), once(res, 'close')]);
        },
      });
      res.end();
      return;
    }
    throw new HttpError(404, 'not-found', `no ${req.method} ${url} on an agent`);
  }

  return serveRoutes(opts.host, opts.port, route, log);
}
