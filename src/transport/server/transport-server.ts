import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { z } from 'zod';
import { httpEventDeliverer } from '../event-delivery.js';
import { HttpError, parseJson, readBody, sendJson, serveRoutes } from '../http-util.js';
import { Outbox } from '../outbox.js';
import { Pairing } from '../pairing.js';
import { agentRequestSchema, conversionRequestSchema, cycleRequestSchema, endpointProbeSchema, pairRequestSchema, validate } from '../protocol-schemas.js';
import {
  API_PREFIX, PROTOCOL_VERSION,
  type ConversionStatus, type PairResponse, type StorageTypeName, type TransportEventBody, type TransportInfo, type TransportStatus,
} from '../protocol.js';
import { requireSignature } from '../signed-http.js';
import { ReplayGuard } from '../signing.js';
import { AgentClients, AgentFailure } from './agent-client.js';
import { convertTargets, ConversionFailure } from './conversion.js';
import { probeEndpoint, ProbeFailure } from './endpoint-probe.js';
import { CycleManager } from './cycle-manager.js';

export interface TransportOptions {
  host: string;
  port: number;
  stateDir: string;
  maxTasks: number;
  storageType: StorageTypeName;
  storageId: string;
  /** its server id in the cloud it runs in, when it runs in one */
  cloudServerId?: string;
  log?: (msg: string) => void;
  /** retry pacing of the event outbox (tests shorten it) */
  retryMs?: { min: number; max: number };
}

export interface RunningTransport {
  url: string;
  port: number;
  transportId: string;
  outbox: Outbox;
  close(): Promise<void>;
}

const callbackSchema = z.object({ callbackUrl: pairRequestSchema.shape.callbackUrl });

/**
 * `ferry transport`: pulls disks from agents into target devices for the one controller it is
 * paired with, and reports back through a durable, signed event outbox.
 */
export async function startTransport(opts: TransportOptions): Promise<RunningTransport> {
  const log = opts.log ?? (() => {});
  const pairing = await Pairing.load(path.join(opts.stateDir, 'pairing.json'));
  const guard = new ReplayGuard();
  const outbox = await Outbox.open({
    dir: path.join(opts.stateDir, 'outbox'),
    transportId: pairing.selfId,
    deliver: httpEventDeliverer({
      callbackUrl: () => pairing.callbackUrl ?? fail('no callback URL: the transport is not paired'),
      secret: () => pairing.secret ?? fail('the transport is not paired'),
    }),
    log: (msg) => log(msg),
    minRetryMs: opts.retryMs?.min,
    maxRetryMs: opts.retryMs?.max,
  });
  const emit = (body: TransportEventBody) => outbox.append(body);
  const agents = await AgentClients.open(opts.stateDir, pairing.selfId);
  const conversions = new Map<string, ConversionStatus>();
  const busyTasks = (): Set<string> => new Set([...cycles.runningTasks(), ...[...conversions.values()].filter((c) => c.state === 'running').map((c) => c.taskId)]);
  const cycles = new CycleManager(opts.stateDir, agents, emit, busyTasks, opts.maxTasks, log);
  await cycles.resumeInterrupted();
  outbox.start();

  const info = (): TransportInfo => ({
    protocol: PROTOCOL_VERSION,
    role: 'transport',
    maxSupportedTasks: opts.maxTasks,
    currentTasks: busyTasks().size,
    storageId: opts.storageId,
    storageType: opts.storageType,
    paired: pairing.paired,
    ...(opts.cloudServerId ? { cloudServerId: opts.cloudServerId } : {}),
  });

  async function startConversion(request: z.infer<typeof conversionRequestSchema>): Promise<ConversionStatus> {
    const existing = conversions.get(request.conversionId);
    if (existing) return existing;
    const busy = busyTasks();
    if (!busy.has(request.taskId) && busy.size >= opts.maxTasks) throw new HttpError(409, 'busy', `this transport already runs ${busy.size} tasks, its maximum`);
    const status: ConversionStatus = { conversionId: request.conversionId, taskId: request.taskId, state: 'running', startedAt: new Date().toISOString() };
    conversions.set(request.conversionId, status);
    void (async () => {
      try {
        status.result = await convertTargets(request);
        await emit({ type: 'conversion.finished', taskId: request.taskId, conversionId: request.conversionId, result: status.result });
        status.state = 'finished';
      } catch (err) {
        status.error = { cause: err instanceof ConversionFailure ? 'conversion-failed' : 'internal', message: (err as Error).message, retryable: true };
        await emit({ type: 'conversion.failed', taskId: request.taskId, conversionId: request.conversionId, failure: status.error }).catch(() => undefined);
        status.state = 'failed';
      }
      status.endedAt = new Date().toISOString();
    })();
    return status;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === `${API_PREFIX}/info`) return sendJson(res, 200, info());
    const body = await readBody(req);
    if (req.method === 'POST' && url === `${API_PREFIX}/pair`) {
      const request = validate(pairRequestSchema, parseJson(body));
      const outcome = await pairing.pair(request.controllerId, request.callbackUrl);
      if ('refused' in outcome) throw new HttpError(409, 'paired-elsewhere', outcome.refused);
      log(`paired with controller ${request.controllerId}`);
      const answer: PairResponse = { transportId: outcome.selfId, secret: outcome.secret };
      return sendJson(res, 200, answer);
    }
    await requireSignature(pairing, guard, req, body);
    const route = `${req.method} ${url}`;
    if (route === `PUT ${API_PREFIX}/callback`) {
      await pairing.setCallbackUrl(validate(callbackSchema, parseJson(body)).callbackUrl);
      return sendJson(res, 200, { ok: true });
    }
    if (route === `GET ${API_PREFIX}/status`) {
      const status: TransportStatus = { currentTasks: busyTasks().size, maxSupportedTasks: opts.maxTasks, cycles: cycles.status(), conversions: [...conversions.values()] };
      return sendJson(res, 200, status);
    }
    if (route === `POST ${API_PREFIX}/agents/verify` || route === `POST ${API_PREFIX}/agents/facts`) {
      const { agentAddr } = validate(agentRequestSchema, parseJson(body));
      try {
        const agentInfo = await agents.info(agentAddr);
        const facts = await agents.facts(agentAddr);
        return sendJson(res, 200, url.endsWith('/verify') ? { reachable: true, agent: agentInfo } : facts);
      } catch (err) {
        if (err instanceof AgentFailure) throw new HttpError(502, err.failure.cause, err.failure.message);
        throw err;
      }
    }
    if (route === `POST ${API_PREFIX}/endpoints/probe`) {
      const { url: endpoint } = validate(endpointProbeSchema, parseJson(body));
      try {
        return sendJson(res, 200, await probeEndpoint(new URL(endpoint)));
      } catch (err) {
        if (err instanceof ProbeFailure) throw new HttpError(502, err.cause, err.message);
        throw err;
      }
    }
    if (route === `POST ${API_PREFIX}/cycles`) {
      const request = validate(cycleRequestSchema, parseJson(body));
      const outcome = await cycles.start(request);
      if (typeof outcome === 'object') throw new HttpError(409, 'busy', outcome.refused);
      return sendJson(res, outcome === 'started' ? 202 : 200, cycles.get(request.cycleId));
    }
    const cancel = new RegExp(`^POST ${API_PREFIX}/cycles/([A-Za-z0-9._:-]+)/cancel$`).exec(route);
    if (cancel) {
      if (!cycles.get(cancel[1])) throw new HttpError(404, 'no-such-cycle', `no cycle ${cancel[1]}`);
      return sendJson(res, 200, { cancelled: cycles.cancel(cancel[1]) });
    }
    if (route === `POST ${API_PREFIX}/conversions`) {
      const status = await startConversion(validate(conversionRequestSchema, parseJson(body)));
      return sendJson(res, 202, status);
    }
    throw new HttpError(404, 'not-found', `no ${req.method} ${url} on a transport`);
  }

  const server = await serveRoutes(opts.host, opts.port, route, log);
  return {
    url: server.url,
    port: server.port,
    transportId: pairing.selfId,
    outbox,
    async close() {
      await server.close();
      await cycles.stopAll();
      await outbox.stop();
    },
  };
}

function fail(message: string): never {
  throw new Error(message);
}
