import http from 'node:http';
import type https from 'node:https';
import { CertificateRefused, getText, pinnedAgent, postSoap, type PeerCertificate } from './soap-http.js';
import { moRef, readEnvelope, requestEnvelope, text, textXml, type MoRef, type XmlNode } from './soap-xml.js';
import { VSphereError, type VSphereErrorKind } from './vsphere-error.js';

export interface VimOptions {
  /** `host`, `host:port` or a URL (`https://host/sdk`) */
  address: string;
  userName: string;
  password: string;
  /** SHA-256 thumbprint recorded at AddVSPlatform: a certificate no authority signed is accepted only with it */
  pinnedSha256?: string;
  /** per call; 30 s by default */
  timeoutMs?: number;
}

export interface About {
  name: string;
  fullName: string;
  version: string;
  apiVersion: string;
  /** `VirtualCenter` or `HostAgent` */
  apiType: string;
  /** vCenter's own id; empty on ESXi */
  instanceUuid: string;
}

interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
}

const SERVICE_INSTANCE: MoRef = { type: 'ServiceInstance', value: 'ServiceInstance' };
const FAULT_KINDS: Record<string, VSphereErrorKind> = { InvalidLogin: 'invalid-login', NotAuthenticated: 'not-authenticated', ManagedObjectNotFound: 'not-found' };

/** The SOAP endpoint of an address as a user types it. */
export function sdkUrl(address: string): URL {
  const url = new URL(address.includes('://') ? address : `https://${address}`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/sdk';
  return url;
}

/**
 * A logged-in vim25 session. A call answered NotAuthenticated (the session expired or was ended
 * on the server) logs in again once and is sent again; `generation` counts those logins, so that
 * a walk over paged results knows its paging token died with the old session.
 */
export class VimSession {
  generation = 0;
  /** the certificate the server showed last (https only) */
  certificate?: PeerCertificate;
  private cookie?: string;
  private readonly agent: http.Agent | https.Agent;
  private readonly url: URL;
  private readonly timeoutMs: number;
  private constructor(
    private readonly options: VimOptions,
    readonly about: About,
    readonly content: ServiceContent,
    url: URL,
    agent: http.Agent | https.Agent,
  ) {
    this.url = url;
    this.agent = agent;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get platform(): string {
    return this.url.host;
  }

  /** Reads the service content, then logs in. */
  static async open(options: VimOptions): Promise<VimSession> {
    const url = sdkUrl(options.address);
    let certificate: PeerCertificate | undefined;
    const agent = url.protocol === 'https:' ? pinnedAgent(options.pinnedSha256, (c) => (certificate = c)) : new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const raw = await send(url, agent, undefined, options.timeoutMs ?? 30_000, 'read the service content (RetrieveServiceContent)', requestEnvelope('RetrieveServiceContent', SERVICE_INSTANCE));
      const value = raw.response.returnval as XmlNode | undefined;
      const about = value?.about as XmlNode | undefined;
      const refs = value && (['rootFolder', 'propertyCollector', 'viewManager', 'sessionManager'] as const).map((k) => moRef(value[k]));
      if (!about || !refs || refs.some((r) => !r)) throw new VSphereError('bad-response', url.host, 'read the service content (RetrieveServiceContent)', 'the answer lacks the root folder, property collector, view manager or session manager: is this a vCenter or ESXi /sdk address?');
      const [rootFolder, propertyCollector, viewManager, sessionManager] = refs as MoRef[];
      const session = new VimSession(
        options,
        {
          name: text(about.name) ?? '',
          fullName: text(about.fullName) ?? '',
          version: text(about.version) ?? '',
          apiVersion: text(about.apiVersion) ?? '',
          apiType: text(about.apiType) ?? '',
          instanceUuid: text(about.instanceUuid) ?? '',
        },
        { rootFolder, propertyCollector, viewManager, sessionManager },
        url,
        agent,
      );
      session.certificate = certificate;
      await session.login();
      return session;
    } catch (err) {
      agent.destroy();
      throw err;
    }
  }

  /** Logs in, runs `call` with the session, and logs out whatever happened. */
  static async with<T>(options: VimOptions, call: (session: VimSession) => Promise<T>): Promise<T> {
    const session = await VimSession.open(options);
    try {
      return await call(session);
    } finally {
      await session.close();
    }
  }

  get isVcenter(): boolean {
    return this.about.apiType === 'VirtualCenter';
  }

  /**
   * Calls a method; a session that ended is renewed once and the call sent again. `inspect` may
   * find in an answer that the session had ended (ESXi answers property reads that way).
   */
  async call(method: string, self: MoRef, bodyXml: string, what: string, inspect?: (response: XmlNode) => void): Promise<XmlNode> {
    const once = async () => {
      const response = await this.callOnce(method, self, bodyXml, what);
      inspect?.(response);
      return response;
    };
    try {
      return await once();
    } catch (err) {
      if (!(err instanceof VSphereError) || err.kind !== 'not-authenticated') throw err;
      await this.login();
      return once();
    }
  }

  /** The server's address for a path of its own, e.g. a datastore file's `/folder/…`. */
  urlFor(pathAndQuery: string): URL {
    return new URL(pathAndQuery, this.url.origin);
  }

  /**
   * GETs a small file from the server (the session's connections, so the same pinned
   * certificate) with the given cookie, e.g. a datastore file with its service ticket.
   */
  async getFile(url: URL, cookie: string, what: string, maxBytes = 64 * 1024): Promise<string> {
    let answer;
    try {
      answer = await getText(url, this.agent, { cookie }, this.timeoutMs, maxBytes);
    } catch (err) {
      if (err instanceof CertificateRefused) throw new VSphereError(err.reason === 'changed' ? 'tls-changed' : 'tls-untrusted', this.platform, what, err.message);
      const e = err as NodeJS.ErrnoException;
      throw new VSphereError(e.name === 'TimeoutError' ? 'timeout' : 'unreachable', this.platform, what, e.message);
    }
    if (answer.status === 404) throw new VSphereError('not-found', this.platform, what, `${url.pathname} is not on the datastore (HTTP 404)`);
    if (answer.status !== 200) throw new VSphereError('bad-response', this.platform, what, `GET ${url.pathname} answered HTTP ${answer.status}`);
    return answer.body;
  }

  /** Ends the session on the server (errors ignored: it may be gone already) and closes the connections. */
  async close(): Promise<void> {
    if (this.cookie) await this.callOnce('Logout', this.content.sessionManager, '', 'log out').catch(() => undefined);
    this.cookie = undefined;
    this.agent.destroy();
  }

  private async login(): Promise<void> {
    this.cookie = undefined;
    const body = textXml('userName', this.options.userName) + textXml('password', this.options.password);
    const answer = await send(this.url, this.agent, undefined, this.timeoutMs, `log in as ${this.options.userName}`, requestEnvelope('Login', this.content.sessionManager, body), this.options.password);
    const cookie = answer.setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith('vmware_soap_session='));
    if (!cookie) throw new VSphereError('bad-response', this.platform, `log in as ${this.options.userName}`, 'the answer set no vmware_soap_session cookie');
    this.cookie = cookie;
    this.generation += 1;
  }

  private async callOnce(method: string, self: MoRef, bodyXml: string, what: string): Promise<XmlNode> {
    const answer = await send(this.url, this.agent, this.cookie, this.timeoutMs, what, requestEnvelope(method, self, bodyXml), this.options.password, this.about.apiVersion);
    return answer.response;
  }
}

/** One SOAP round trip; every failure becomes a VSphereError that never contains the password. */
async function send(url: URL, agent: http.Agent, cookie: string | undefined, timeoutMs: number, what: string, envelope: string, secret?: string, apiVersion?: string): Promise<{ response: XmlNode; setCookie: string[] }> {
  const hide = (s: string) => (secret ? s.split(secret).join('***') : s);
  const headers: Record<string, string> = { SOAPAction: apiVersion ? `urn:vim25/${apiVersion}` : 'urn:vim25' };
  if (cookie) headers.cookie = cookie;
  let answer;
  try {
    answer = await postSoap(url, agent, headers, envelope, timeoutMs);
  } catch (err) {
    if (err instanceof CertificateRefused) throw new VSphereError(err.reason === 'changed' ? 'tls-changed' : 'tls-untrusted', url.host, what, err.message);
    const e = err as NodeJS.ErrnoException;
    if (e.name === 'TimeoutError') throw new VSphereError('timeout', url.host, what, e.message);
    throw new VSphereError('unreachable', url.host, what, `cannot reach ${url.host}: ${hide(e.code ? `${e.code} (${e.message})` : e.message)}`);
  }
  let read;
  try {
    read = readEnvelope(answer.body);
  } catch {
    throw new VSphereError('bad-response', url.host, what, `HTTP ${answer.status} without a SOAP envelope: is ${url.href} a vCenter or ESXi /sdk address?`);
  }
  if (read.fault) throw new VSphereError(FAULT_KINDS[read.fault.type] ?? 'fault', url.host, what, hide(`${read.fault.type}: ${read.fault.message}`), read.fault.type);
  if (answer.status !== 200) throw new VSphereError('bad-response', url.host, what, `HTTP ${answer.status}`);
  return { response: read.response!, setCookie: answer.setCookie };
}
