import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isNetworkError } from '../../util/network-errors.js';
import { FrameParser, type PooledFrame } from '../frame-reader.js';
import { API_PREFIX, baseUrl, DEFAULT_AGENT_PORT, parseAddress, type AgentInfo, type DiskSize, type HostFacts, type HostPort, type PairResponse, type ReadRequest, type TransportFailure } from '../protocol.js';
import { PeerError, signedJson } from '../signed-http.js';
import { signMessage } from '../signing.js';
import type { BlockSource } from './block-source.js';
import { openBlockStream } from './block-stream.js';

/** A failure talking to an agent, already classified for the controller. */
export class AgentFailure extends Error {
  constructor(readonly failure: TransportFailure) {
    super(failure.message);
  }
}


/** Turns what went wrong reaching an agent into a failure with a cause. */
export function classifyAgentError(agentAddr: string, err: unknown): AgentFailure {
  if (err instanceof AgentFailure) return err;
  if (err instanceof PeerError) {
    if (err.status === 409) return new AgentFailure({ cause: 'agent-refused', message: `agent ${agentAddr} refused: ${err.message}`, retryable: false });
    if (err.status === 404) return new AgentFailure({ cause: 'disk-vanished', message: `agent ${agentAddr}: ${err.message}`, retryable: true });
    return new AgentFailure({ cause: 'agent-unreachable', message: `agent ${agentAddr} answered ${err.status}: ${err.message}`, retryable: true });
  }
  const message = (err as Error).message ?? String(err);
  if (isNetworkError(err) || /no answer/.test(message)) {
    return new AgentFailure({ cause: 'agent-unreachable', message: `agent ${agentAddr} cannot be reached: ${message}`, retryable: true });
  }
  return new AgentFailure({ cause: 'agent-lost', message: `agent ${agentAddr}: ${message}`, retryable: true });
}

/**
 * Talks to agents on the transport's behalf. The first contact pairs with the agent; the secret
 * is kept in the state directory, so only this transport can read that agent's disks.
 */
export class AgentClients {
  private secrets: Record<string, string> = {};

  private constructor(private readonly file: string, private readonly selfId: string) {}

  static async open(stateDir: string, selfId: string): Promise<AgentClients> {
    const clients = new AgentClients(path.join(stateDir, 'agents.json'), selfId);
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    try {
      clients.secrets = JSON.parse(await readFile(clients.file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return clients;
  }

  private address(agentAddr: string): HostPort {
    const address = parseAddress(agentAddr, DEFAULT_AGENT_PORT);
    if (!address) throw new AgentFailure({ cause: 'agent-unreachable', message: `"${agentAddr}" is not an address (host or host:port)`, retryable: false });
    return address;
  }

  private url(agentAddr: string): string {
    return baseUrl(this.address(agentAddr));
  }

  async info(agentAddr: string): Promise<AgentInfo> {
    try {
      return await signedJson<AgentInfo>({ baseUrl: this.url(agentAddr), method: 'GET', path: `${API_PREFIX}/info`, timeoutMs: 5_000 });
    } catch (err) {
      throw classifyAgentError(agentAddr, err);
    }
  }

  async facts(agentAddr: string): Promise<HostFacts> {
    return this.withSecret(agentAddr, (secret) => signedJson<HostFacts>({ baseUrl: this.url(agentAddr), secret, method: 'GET', path: `${API_PREFIX}/facts`, timeoutMs: 30_000 }));
  }

  async diskSizes(agentAddr: string): Promise<DiskSize[]> {
    const answer = await this.withSecret(agentAddr, (secret) => signedJson<{ disks: DiskSize[] }>({ baseUrl: this.url(agentAddr), secret, method: 'GET', path: `${API_PREFIX}/disks`, timeoutMs: 10_000 }));
    return answer.disks;
  }

  /** Opens the block stream of one disk: resolves once the agent agreed to send it. */
  async openRead(agentAddr: string, request: ReadRequest, signal: AbortSignal, parser: FrameParser): Promise<AsyncIterable<PooledFrame>> {
    const address = this.address(agentAddr);
    const path = `${API_PREFIX}/disks/read`;
    const body = Buffer.from(JSON.stringify(request));
    return this.withSecret(agentAddr, (secret) => openBlockStream({ address, path, headers: signMessage(secret, 'POST', path, body), body, signal, timeoutMs: 60_000 }, parser));
  }

  /** Runs a signed call; pairs first when there is no secret, and once more if the agent forgot us. */
  private async withSecret<T>(agentAddr: string, call: (secret: string) => Promise<T>): Promise<T> {
    try {
      const known = this.secrets[agentAddr];
      if (known) {
        try {
          return await call(known);
        } catch (err) {
          if (!(err instanceof PeerError && err.status === 401 && err.detail.error === 'not-paired')) throw err;
        }
      }
      return await call(await this.pair(agentAddr));
    } catch (err) {
      throw classifyAgentError(agentAddr, err);
    }
  }

  private async pair(agentAddr: string): Promise<string> {
    const answer = await signedJson<PairResponse>({ baseUrl: this.url(agentAddr), method: 'POST', path: `${API_PREFIX}/pair`, body: { controllerId: this.selfId }, timeoutMs: 5_000 });
    this.secrets[agentAddr] = answer.secret;
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(this.secrets), { mode: 0o600 });
    await rename(tmp, this.file);
    return answer.secret;
  }
}

/** The disks of one agent host, as a cycle's source. */
export function agentSource(agents: AgentClients, agentAddr: string): BlockSource {
  return {
    name: `agent ${agentAddr}`,
    lostCause: 'agent-lost',
    sizes: () => agents.diskSizes(agentAddr),
    open: (r) =>
      agents.openRead(
        agentAddr,
        { disk: r.disk.disk, blockSize: r.blockSize, knownHashes: r.known.toBytes().toString('base64'), compress: r.compress },
        r.signal,
        // room for a compressed block that came out larger than the block, plus its header
        new FrameParser(r.blockSize + 65_536, r.pool),
      ),
    classify: (err) => classifyAgentError(agentAddr, err).failure,
  };
}
