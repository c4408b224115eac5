import { API_PREFIX, baseUrl, DEFAULT_TRANSPORT_PORT, parseAddress, type AgentInfo, type ConversionRequest, type ConversionStatus, type CycleRequest, type CycleStatus, type EndpointProbe, type HostFacts, type PairResponse, type TransportInfo, type TransportStatus } from './protocol.js';
import { signedJson } from './signed-http.js';

/** How a controller (Ferry) commands one transport server. */
export class TransportClient {
  readonly baseUrl: string;

  constructor(mgntAddr: string, private secret?: string) {
    const address = parseAddress(mgntAddr, DEFAULT_TRANSPORT_PORT);
    if (!address) throw new Error(`"${mgntAddr}" is not a transport address (host or host:port)`);
    this.baseUrl = baseUrl(address);
  }

  info(timeoutMs = 5_000): Promise<TransportInfo> {
    return signedJson({ baseUrl: this.baseUrl, method: 'GET', path: `${API_PREFIX}/info`, timeoutMs });
  }

  /** Claims the transport; keep `secret` from the answer: it signs everything that follows. */
  async pair(controllerId: string, callbackUrl: string): Promise<PairResponse> {
    const answer = await signedJson<PairResponse>({ baseUrl: this.baseUrl, method: 'POST', path: `${API_PREFIX}/pair`, body: { controllerId, callbackUrl }, timeoutMs: 5_000 });
    this.secret = answer.secret;
    return answer;
  }

  setCallback(callbackUrl: string): Promise<{ ok: true }> {
    return this.call('PUT', '/callback', { callbackUrl });
  }

  private call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, timeoutMs = 15_000): Promise<T> {
    if (!this.secret) throw new Error('not paired with this transport');
    return signedJson<T>({ baseUrl: this.baseUrl, secret: this.secret, method, path: `${API_PREFIX}${path}`, body, timeoutMs });
  }

  status(): Promise<TransportStatus> {
    return this.call('GET', '/status');
  }

  verifyAgent(agentAddr: string): Promise<{ reachable: true; agent: AgentInfo }> {
    return this.call('POST', '/agents/verify', { agentAddr });
  }

  agentFacts(agentAddr: string): Promise<HostFacts> {
    return this.call('POST', '/agents/facts', { agentAddr }, 60_000);
  }

  /** Whether the transport reaches an http(s) endpoint, and the certificate it is shown there. */
  probeEndpoint(url: string): Promise<EndpointProbe> {
    return this.call('POST', '/endpoints/probe', { url });
  }

  startCycle(request: CycleRequest): Promise<CycleStatus> {
    return this.call('POST', '/cycles', request);
  }

  cancelCycle(cycleId: string): Promise<{ cancelled: boolean }> {
    return this.call('POST', `/cycles/${encodeURIComponent(cycleId)}/cancel`);
  }

  startConversion(request: ConversionRequest): Promise<ConversionStatus> {
    return this.call('POST', '/conversions', request);
  }
}
