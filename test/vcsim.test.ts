import { X509Certificate } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnVcsim, vcsimBinary, type VcsimProcess } from './support/vcsim.js';
import { sleep } from './support/wait.js';

// Raw SOAP, hand-written, as little as each check needs.

const envelope = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ` +
  `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

const SERVICE_CONTENT = `<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>`;
const CURRENT_TIME = `<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>`;

/** The managed objects a client finds in the ServiceContent (ids differ: vCenter "SessionManager", ESXi "ha-sessionmgr"). */
interface Content {
  rootFolder: string;
  propertyCollector: string;
  viewManager: string;
  sessionManager: string;
}
const login = (c: Content, user: string, password: string) =>
  `<Login xmlns="urn:vim25"><_this type="SessionManager">${c.sessionManager}</_this><userName>${user}</userName><password>${password}</password></Login>`;
/** every object of `types` below the root folder */
const containerView = (c: Content, types: string[]) =>
  `<CreateContainerView xmlns="urn:vim25"><_this type="ViewManager">${c.viewManager}</_this><container type="Folder">${c.rootFolder}</container>` +
  types.map((t) => `<type>${t}</type>`).join('') +
  `<recursive>true</recursive></CreateContainerView>`;
/** `paths` of each type, for every object in view `view` (at most `maxObjects` per answer) */
const retrieveFromView = (c: Content, view: string, props: Record<string, string[]>, maxObjects?: number) =>
  `<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">${c.propertyCollector}</_this><specSet>` +
  Object.entries(props)
    .map(([type, paths]) => `<propSet><type>${type}</type>${paths.map((p) => `<pathSet>${p}</pathSet>`).join('')}</propSet>`)
    .join('') +
  `<objectSet><obj type="ContainerView">${view}</obj><skip>true</skip>` +
  `<selectSet xsi:type="TraversalSpec"><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet>` +
  `</specSet><options>${maxObjects ? `<maxObjects>${maxObjects}</maxObjects>` : ''}</options></RetrievePropertiesEx>`;
const rootName = (c: Content) =>
  `<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">${c.propertyCollector}</_this><specSet><propSet><type>Folder</type><pathSet>name</pathSet></propSet>` +
  `<objectSet><obj type="Folder">${c.rootFolder}</obj></objectSet></specSet><options/></RetrievePropertiesEx>`;
/** the same with the older RetrieveProperties */
const rootNameOld = (c: Content) =>
  `<RetrieveProperties xmlns="urn:vim25"><_this type="PropertyCollector">${c.propertyCollector}</_this><specSet><propSet><type>Folder</type><pathSet>name</pathSet></propSet>` +
  `<objectSet><obj type="Folder">${c.rootFolder}</obj></objectSet></specSet></RetrieveProperties>`;
const continueRetrieve = (c: Content, token: string) =>
  `<ContinueRetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">${c.propertyCollector}</_this><token>${token}</token></ContinueRetrievePropertiesEx>`;
const cancelRetrieve = (c: Content, token: string) =>
  `<CancelRetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">${c.propertyCollector}</_this><token>${token}</token></CancelRetrievePropertiesEx>`;
/** a ticket for one request (`method`: httpGet, httpPut, …) to `url` of the datastore HTTP interface */
const acquireTicket = (c: Content, method: string, url: string) =>
  `<AcquireGenericServiceTicket xmlns="urn:vim25"><_this type="SessionManager">${c.sessionManager}</_this>` +
  `<spec xsi:type="SessionManagerHttpServiceRequestSpec"><method>${method}</method><url>${url.replace(/&/g, '&amp;')}</url></spec></AcquireGenericServiceTicket>`;
const logout = (c: Content) => `<Logout xmlns="urn:vim25"><_this type="SessionManager">${c.sessionManager}</_this></Logout>`;

interface SoapAnswer {
  status: number;
  xml: string;
  cookie?: string;
}

/** POSTs one SOAP body to the simulator's /sdk (https through `agent`, or plain http). */
function soap(sim: VcsimProcess, body: string, o: { agent?: https.Agent; cookie?: string } = {}): Promise<SoapAnswer> {
  const url = new URL(sim.url);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: 'POST',
        agent: o.agent,
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'urn:vim25/7.0', ...(o.cookie && { cookie: o.cookie }) },
      },
      (res) => {
        let xml = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (xml += d));
        res.on('end', () => {
          const set = res.headers['set-cookie']?.map((c) => /vmware_soap_session=[^;]+/.exec(c)?.[0]).find(Boolean);
          resolve({ status: res.statusCode!, xml, cookie: set ?? o.cookie });
        });
      },
    );
    req.on('error', reject);
    req.end(envelope(body));
  });
}

/**
 * An agent that trusts the simulator's self-signed certificate only when its SHA-1 fingerprint is
 * `thumbprint`: the certificate is fetched (untrusted, nothing sent), compared, then trusted as the
 * only CA, and every later connection is pinned again in checkServerIdentity.
 */
async function pinnedAgent(sim: VcsimProcess, thumbprint = sim.thumbprint): Promise<https.Agent> {
  const { hostname, port } = new URL(sim.url);
  const cert = await new Promise<tls.PeerCertificate>((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
  const pem = `-----BEGIN CERTIFICATE-----\n${cert.raw.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  return new https.Agent({
    ca: pem,
    checkServerIdentity: (_host, peer) =>
      peer.fingerprint === thumbprint ? undefined : new Error(`certificate ${peer.fingerprint} is not the pinned ${thumbprint}`),
  });
}

const tag = (xml: string, name: string) => new RegExp(`<${name}[^>]*>([^<]*)</${name}>`).exec(xml)?.[1];

interface Obj {
  type: string;
  id: string;
  props: Record<string, string>;
}
/** The objects of a RetrievePropertiesEx answer; a reference-valued property gives its id. */
function objects(xml: string): Obj[] {
  return [...xml.matchAll(/<objects>([\s\S]*?)<\/objects>/g)].map(([, o]) => {
    const [, type, id] = /<obj type="([^"]+)">([^<]+)<\/obj>/.exec(o)!;
    const props = Object.fromEntries([...o.matchAll(/<propSet><name>([^<]+)<\/name><val[^>]*>([^<]*)<\/val><\/propSet>/g)].map(([, n, v]) => [n, v]));
    return { type, id, props };
  });
}

async function serviceContent(sim: VcsimProcess, agent?: https.Agent): Promise<Content> {
  const res = await soap(sim, SERVICE_CONTENT, { agent });
  expect(res.status, res.xml).toBe(200);
  const [rootFolder, propertyCollector, viewManager, sessionManager] = ['rootFolder', 'propertyCollector', 'viewManager', 'sessionManager'].map((t) => tag(res.xml, t)!);
  return { rootFolder, propertyCollector, viewManager, sessionManager };
}

async function loggedIn(sim: VcsimProcess, agent?: https.Agent): Promise<{ c: Content; cookie: string }> {
  const c = await serviceContent(sim, agent);
  const res = await soap(sim, login(c, sim.username, sim.password), { agent });
  expect(res.status, res.xml).toBe(200);
  expect(res.cookie).toBeDefined();
  return { c, cookie: res.cookie! };
}

/** Login, a recursive ContainerView of `types` from the root folder, their `paths`. */
async function inventory(sim: VcsimProcess, props: Record<string, string[]>, agent?: https.Agent): Promise<Obj[]> {
  const { c, cookie } = await loggedIn(sim, agent);
  const view = await soap(sim, containerView(c, Object.keys(props)), { agent, cookie });
  expect(view.status, view.xml).toBe(200);
  const res = await soap(sim, retrieveFromView(c, tag(view.xml, 'returnval')!, props), { agent, cookie });
  expect(res.status, res.xml).toBe(200);
  return objects(res.xml);
}

/** A ContainerView of every VM, made on the session of `cookie`. */
async function vmView(sim: VcsimProcess, c: Content, cookie: string): Promise<string> {
  const view = await soap(sim, containerView(c, ['VirtualMachine']), { cookie });
  expect(view.status, view.xml).toBe(200);
  return tag(view.xml, 'returnval')!;
}

/** The pages of a paged read, from its first answer on: the size of each and every VM name. */
async function allPages(sim: VcsimProcess, c: Content, cookie: string, first: SoapAnswer): Promise<{ sizes: number[]; names: string[] }> {
  const sizes: number[] = [];
  const names: string[] = [];
  for (let res = first; ; ) {
    expect(res.status, res.xml).toBe(200);
    const page = objects(res.xml);
    sizes.push(page.length);
    names.push(...page.map((o) => o.props.name));
    const token = tag(res.xml, 'token');
    if (!token) return { sizes, names };
    res = await soap(sim, continueRetrieve(c, token), { cookie });
  }
}

/** The certificate the server presents (fetched untrusted, nothing sent). */
function servedCertificate(sim: VcsimProcess): Promise<tls.PeerCertificate> {
  const { hostname, port } = new URL(sim.url);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate());
      s.end();
    });
    s.on('error', reject);
  });
}

interface Download {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** GETs `url` as a transport downloads a disk: the cookie (a ticket or a session) and maybe a Range. */
function download(url: string, o: { agent?: https.Agent; cookie?: string; range?: string } = {}): Promise<Download> {
  const mod = new URL(url).protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { agent: o.agent, headers: { ...(o.cookie && { cookie: o.cookie }), ...(o.range && { range: o.range }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

const expectFault = (res: SoapAnswer, type: string) => {
  expect(res.status, res.xml).toBe(500);
  expect(res.xml).toContain(`${type}Fault`);
  expect(res.xml).toMatch(new RegExp(`xsi:type="${type}"`));
};

describe('vcsim (govmomi simulator) harness', () => {
  beforeAll(async () => {
    await vcsimBinary(); // built once into the cache (CI builds it in .ci/run)
  }, 600_000);

  describe('vCenter and ESXi modes over TLS, the printed thumbprint pinned', () => {
    let vpx: VcsimProcess;
    let esx: VcsimProcess;
    beforeAll(async () => {
      [vpx, esx] = await Promise.all([spawnVcsim({ mode: 'vpx' }), spawnVcsim({ mode: 'esx', vms: 3 })]);
    });
    afterAll(async () => {
      await Promise.all([vpx?.stop(), esx?.stop()]);
    });

    it('serves /sdk on a loopback https URL with vSphere-style thumbprints', () => {
      for (const sim of [vpx, esx]) {
        expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/sdk$/);
        expect(sim.thumbprint).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
        expect(sim.sha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
        expect([sim.username, sim.password]).toEqual(['user', 'pass']);
      }
    });

    it('answers RetrieveServiceContent as a VirtualCenter (vpx) and a HostAgent (esx)', async () => {
      for (const [sim, apiType] of [
        [vpx, 'VirtualCenter'],
        [esx, 'HostAgent'],
      ] as const) {
        const res = await soap(sim, SERVICE_CONTENT, { agent: await pinnedAgent(sim) });
        expect(res.status).toBe(200);
        expect(tag(res.xml, 'apiType')).toBe(apiType);
        expect(tag(res.xml, 'rootFolder')).toBeTruthy();
      }
    });

    it('the certificate is the one printed: SHA-256 too, and a pin on another thumbprint is refused', async () => {
      const { hostname, port } = new URL(vpx.url);
      const cert = await new Promise<tls.PeerCertificate>((resolve, reject) => {
        const s = tls.connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate());
          s.end();
        });
        s.on('error', reject);
      });
      expect(cert.fingerprint).toBe(vpx.thumbprint);
      expect(cert.fingerprint256).toBe(vpx.sha256);

      const wrong = vpx.thumbprint.replace(/^../, vpx.thumbprint.startsWith('00') ? '01' : '00');
      await expect(soap(vpx, SERVICE_CONTENT, { agent: await pinnedAgent(vpx, wrong) })).rejects.toThrow(/not the pinned/);
    });

    it('an ESXi host has one datacenter, one host, no cluster, and the VMs asked for', async () => {
      expect(esx.counts).toEqual({ datacenters: 1, hosts: 1, clusters: 0, vms: 3, folders: 5 });
      const vms = await inventory(esx, { VirtualMachine: ['name'] }, await pinnedAgent(esx));
      expect(vms).toHaveLength(3);
    });
  });

  it('builds the topology asked for: datacenters, clusters, standalone hosts, a datacenter in a folder, VM folders 3 deep', async () => {
    const [dc, cluster, clusterHost, host, vm, folder, depth] = [3, 2, 2, 2, 2, 1, 3];
    const sim = await spawnVcsim({ datacenters: dc, clusters: cluster, clusterHosts: clusterHost, hosts: host, vms: vm, folders: folder, folderDepth: depth });
    try {
      const expected = {
        datacenters: dc,
        clusters: dc * cluster,
        hosts: dc * (host + cluster * clusterHost),
        vms: dc * (host + cluster) * vm, // per standalone host and per cluster
        // root, each datacenter's vm/host/datastore/network, a folder + 4 sub-folders per foldered
        // datacenter, and the nested chain in each datacenter
        folders: 1 + dc * 4 + folder * 5 + dc * depth,
      };
      expect(sim.counts).toEqual(expected);

      const all = await inventory(
        sim,
        { Datacenter: ['name', 'parent'], ClusterComputeResource: ['name'], HostSystem: ['name'], VirtualMachine: ['name', 'parent'], Folder: ['name', 'parent'] },
        await pinnedAgent(sim),
      );
      const of = (type: string) => all.filter((o) => o.type === type);
      expect({
        datacenters: of('Datacenter').length,
        clusters: of('ClusterComputeResource').length,
        hosts: of('HostSystem').length,
        vms: of('VirtualMachine').length,
        folders: of('Folder').length + 1, // the view lists what is below the root folder
      }).toEqual(expected);

      const byId = new Map(all.map((o) => [o.id, o]));
      const name = (id: string | undefined) => (id && byId.get(id)?.props.name) ?? null;
      // the last datacenter is in folder F0 under the root folder (which the view does not list)
      expect(of('Datacenter').map((d) => [d.props.name, byId.has(d.props.parent) ? name(d.props.parent) : 'root']).sort()).toEqual([
        ['DC0', 'root'],
        ['DC1', 'root'],
        ['DC2', 'F0'],
      ]);
      // in every datacenter a VM sits 3 folders deep: …/DCn_NF1/DCn_NF2/DCn_NF3/VM
      for (let n = 0; n < dc; n++) {
        const deepest = of('VirtualMachine').filter((v) => name(v.props.parent) === `DC${n}_NF3`);
        expect(deepest.length).toBeGreaterThan(0);
        const nf3 = byId.get(deepest[0].props.parent)!;
        const nf2 = byId.get(nf3.props.parent)!;
        expect([nf2.props.name, name(nf2.props.parent)]).toEqual([`DC${n}_NF2`, `DC${n}_NF1`]);
      }
    } finally {
      await sim.stop();
    }
    expect(sim.proc.exitCode).toBe(0); // SIGTERM: a clean exit
  });

  it('refuses a bad password with InvalidLogin, and accepts only the configured user', async () => {
    const sim = await spawnVcsim({ username: 'ferry@vsphere.local', password: 'S3cret!', vms: 1 });
    try {
      expect([sim.username, sim.password]).toEqual(['ferry@vsphere.local', 'S3cret!']);
      const agent = await pinnedAgent(sim);
      const c = await serviceContent(sim, agent);
      for (const [user, password] of [
        ['ferry@vsphere.local', 'wrong'],
        ['user', 'pass'], // the simulator's defaults are not accepted beside the configured user
        ['other', 'S3cret!'],
      ]) {
        const res = await soap(sim, login(c, user, password), { agent });
        expect(res.status).toBe(500);
        expect(res.xml).toContain('InvalidLoginFault');
        expect(res.xml).toMatch(/xsi:type="InvalidLogin"/);
        expect(res.cookie).toBeUndefined();
      }
      await loggedIn(sim, agent);
    } finally {
      await sim.stop();
    }
  });

  it('-duplicate-uuid 1 gives two VMs one config.uuid (instanceUuid still distinct), over plain http', async () => {
    const sim = await spawnVcsim({ plain: true, duplicateUuid: 1 });
    try {
      expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/sdk$/);
      expect([sim.thumbprint, sim.sha256]).toEqual(['', '']);
      const vms = await inventory(sim, { VirtualMachine: ['name', 'config.uuid', 'config.instanceUuid'] });
      expect(vms).toHaveLength(sim.counts.vms);
      const byUuid = new Map<string, Obj[]>();
      for (const v of vms) byUuid.set(v.props['config.uuid'], [...(byUuid.get(v.props['config.uuid']) ?? []), v]);
      const shared = [...byUuid.values()].filter((group) => group.length > 1);
      expect(shared).toHaveLength(1);
      expect(shared[0]).toHaveLength(2);
      expect(shared[0][0].props['config.instanceUuid']).not.toBe(shared[0][1].props['config.instanceUuid']);
      expect(new Set(vms.map((v) => v.props['config.instanceUuid'])).size).toBe(vms.length);
    } finally {
      await sim.stop();
    }
  });

  it('-session-idle expires an idle session: NotAuthenticated afterwards', async () => {
    const sim = await spawnVcsim({ plain: true, sessionIdleSeconds: 0.4, vms: 1 });
    try {
      const { c, cookie } = await loggedIn(sim);
      expect((await soap(sim, CURRENT_TIME, { cookie })).status).toBe(200);
      expect(objects((await soap(sim, rootName(c), { cookie })).xml)[0].props.name).toBe('Datacenters');
      await sleep(1_200); // checked every 0.4 s: gone between 0.4 and 0.8 s of idleness
      const after = await soap(sim, CURRENT_TIME, { cookie });
      expect(after.status).toBe(500);
      expect(after.xml).toContain('NotAuthenticatedFault');
      // The simulator answers a property read on a dead session with 200 and each property in
      // missingSet with NotAuthenticated (as ESXi has been seen to), not with a fault.
      const read = await soap(sim, rootName(c), { cookie });
      expect(read.status).toBe(200);
      expect(read.xml).toMatch(/<missingSet><path>name<\/path><fault><fault[^>]*type="NotAuthenticated"/);
    } finally {
      await sim.stop();
    }
  });
  it('-page-size pages RetrievePropertiesEx by min(maxObjects, N) with tokens, ContinueRetrievePropertiesEx on the same session only', async () => {
    const sim = await spawnVcsim({ plain: true, vms: 6, pageSize: 5 }); // 12 VMs
    try {
      expect(sim.counts.vms).toBe(12);
      const { c, cookie } = await loggedIn(sim);
      const view = await vmView(sim, c, cookie);
      const read = (maxObjects?: number) => soap(sim, retrieveFromView(c, view, { VirtualMachine: ['name'] }, maxObjects), { cookie });

      const byThree = await allPages(sim, c, cookie, await read(3));
      expect(byThree.sizes).toEqual([3, 3, 3, 3]); // the last page has no token
      expect(byThree.names).toHaveLength(12);
      expect(new Set(byThree.names).size).toBe(12); // every VM, once
      // without maxObjects (or above N) the server's own limit, N, applies
      expect((await allPages(sim, c, cookie, await read())).sizes).toEqual([5, 5, 2]);
      expect((await allPages(sim, c, cookie, await read(50))).sizes).toEqual([5, 5, 2]);

      // a token is refused (InvalidArgument "token") on another session, and stays its own session's
      const token = tag((await read(3)).xml, 'token')!;
      const other = await loggedIn(sim);
      const stolen = await soap(sim, continueRetrieve(c, token), { cookie: other.cookie });
      expectFault(stolen, 'InvalidArgument');
      expect(tag(stolen.xml, 'invalidProperty')).toBe('token');
      expectFault(await soap(sim, cancelRetrieve(c, token), { cookie: other.cookie }), 'InvalidArgument');
      expect(objects((await soap(sim, continueRetrieve(c, token), { cookie })).xml)).toHaveLength(3);
      expectFault(await soap(sim, continueRetrieve(c, token), { cookie }), 'InvalidArgument'); // used once only

      // CancelRetrievePropertiesEx drops a token
      const cancelled = tag((await read(3)).xml, 'token')!;
      expect((await soap(sim, cancelRetrieve(c, cancelled), { cookie })).status).toBe(200);
      expectFault(await soap(sim, continueRetrieve(c, cancelled), { cookie }), 'InvalidArgument');

      // a token dies with its session: after Logout and a new Login, it is refused
      const old = tag((await read(3)).xml, 'token')!;
      expect((await soap(sim, logout(c), { cookie })).status).toBe(200);
      expectFault(await soap(sim, continueRetrieve(c, old), { cookie }), 'NotAuthenticated');
      const again = await loggedIn(sim);
      expectFault(await soap(sim, continueRetrieve(c, old), { cookie: again.cookie }), 'InvalidArgument');
    } finally {
      await sim.stop();
    }
  });

  it('-fault-expired-reads: property reads on an expired session fault NotAuthenticated (HTTP 500), as on vCenter', async () => {
    const sim = await spawnVcsim({ plain: true, sessionIdleSeconds: 0.4, faultExpiredReads: true, pageSize: 2, vms: 2 }); // 4 VMs
    try {
      const { c, cookie } = await loggedIn(sim);
      const view = await vmView(sim, c, cookie);
      const first = await soap(sim, retrieveFromView(c, view, { VirtualMachine: ['name'] }), { cookie });
      expect(objects(first.xml)).toHaveLength(2);
      const token = tag(first.xml, 'token')!;
      expect(token).toBeTruthy();
      expect(tag((await soap(sim, rootNameOld(c), { cookie })).xml, 'val')).toBe('Datacenters');
      await sleep(1_200); // expired between 0.4 and 0.8 s of idleness
      for (const body of [rootName(c), rootNameOld(c), continueRetrieve(c, token)]) {
        expectFault(await soap(sim, body, { cookie }), 'NotAuthenticated');
      }
    } finally {
      await sim.stop();
    }
  });

  describe('-disk-mb: a VM disk read over the datastore HTTP interface with a generic service ticket, as a transport does', () => {
    let sim: VcsimProcess;
    let agent: https.Agent;
    let session: { c: Content; cookie: string };
    /** the first disk of VM DC0_H0_VM0: its config.hardware.device entry and its /folder URLs */
    let disk: { xml: string; descriptorUrl: string; flatUrl: string; flatFile: string };
    const ticket = async (url: string, method = 'httpGet') => {
      const res = await soap(sim, acquireTicket(session.c, method, url), { agent, cookie: session.cookie });
      expect(res.status, res.xml).toBe(200);
      return `vmware_cgi_ticket=${tag(res.xml, 'id')}`;
    };

    beforeAll(async () => {
      sim = await spawnVcsim({ vms: 1, diskMb: 8 });
      agent = await pinnedAgent(sim);
      session = await loggedIn(sim, agent);
      const view = await soap(sim, containerView(session.c, ['VirtualMachine']), { agent, cookie: session.cookie });
      const res = await soap(sim, retrieveFromView(session.c, tag(view.xml, 'returnval')!, { VirtualMachine: ['name', 'config.hardware.device'] }), {
        agent,
        cookie: session.cookie,
      });
      expect(res.status, res.xml).toBe(200);
      const vm = [...res.xml.matchAll(/<objects>([\s\S]*?)<\/objects>/g)].map(([, o]) => o).find((o) => o.includes('>DC0_H0_VM0</val>'))!;
      const xml = /<VirtualDevice [^>]*type="VirtualDisk">([\s\S]*?)<\/VirtualDevice>/.exec(vm)![1];
      const [, dsName, dir, name] = /<fileName>\[([^\]]+)\] ([^/<]+)\/([^/<]+)\.vmdk<\/fileName>/.exec(xml)!;
      const ds = sim.datastores.find((d) => d.name === dsName)!;
      const folder = (file: string) => `${new URL(sim.url).origin}/folder/${dir}/${file}?dcPath=${encodeURIComponent(ds.datacenter)}&dsName=${dsName}`;
      disk = { xml, descriptorUrl: folder(`${name}.vmdk`), flatUrl: folder(`${name}-flat.vmdk`), flatFile: path.join(ds.path, dir, `${name}-flat.vmdk`) };
    });
    afterAll(async () => {
      await sim?.stop();
    });

    it('prints where each datastore keeps its files, and config.hardware.device reports the disk as 8 MiB', () => {
      expect(sim.datastores).toEqual([{ datacenter: 'DC0', name: 'LocalDS_0', path: expect.stringMatching(/^\//) }]);
      expect(tag(disk.xml, 'capacityInKB')).toBe(String(8 * 1024));
      expect(tag(disk.xml, 'capacityInBytes')).toBe(String(8 * 1024 * 1024));
    });

    it('answers 401 without a ticket, 200 with the descriptor for a ticket of that URL, 401 for the same ticket again', async () => {
      expect((await download(disk.descriptorUrl, { agent })).status).toBe(401);

      const cookie = await ticket(disk.descriptorUrl);
      const res = await download(disk.descriptorUrl, { agent, cookie });
      expect(res.status).toBe(200);
      const text = res.body.toString('utf8');
      expect(text).toMatch(/^# Disk DescriptorFile\n/);
      expect(text).toContain('createType="vmfs"');
      expect(text).toMatch(/\nCID=[0-9a-f]{8}\nparentCID=ffffffff\n/);
      expect(text).toContain(`\nRW ${(8 * 1024 * 1024) / 512} VMFS "${path.basename(disk.flatFile)}"\n`);
      expect(text).toMatch(/\nddb\.uuid = "([0-9a-f]{2} ){7}[0-9a-f]{2}-([0-9a-f]{2} ){7}[0-9a-f]{2}"\n/);

      expect((await download(disk.descriptorUrl, { agent, cookie })).status).toBe(401); // single use
    });

    it('refuses a ticket acquired for another URL, or for another method', async () => {
      expect((await download(disk.descriptorUrl, { agent, cookie: await ticket(disk.flatUrl) })).status).toBe(401);
      expect((await download(disk.descriptorUrl, { agent, cookie: await ticket(disk.descriptorUrl, 'httpPut') })).status).toBe(401);
    });

    it('serves a Range of the flat extent (sparse, 8 MiB) with the bytes written into it on the datastore', async () => {
      const bytes = Buffer.from('ferry:0123456789'); // 16 bytes at 1 MiB
      const file = await open(disk.flatFile, 'r+');
      try {
        expect((await file.stat()).size).toBe(8 * 1024 * 1024);
        await file.write(bytes, 0, bytes.length, 1024 * 1024);
      } finally {
        await file.close();
      }
      const res = await download(disk.flatUrl, { agent, cookie: await ticket(disk.flatUrl), range: 'bytes=1048576-1048591' });
      expect(res.status).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes 1048576-1048591/${8 * 1024 * 1024}`);
      expect(res.body).toEqual(bytes);
    });

    it('lets a live session (vmware_soap_session) through too, as vCenter does', async () => {
      const other = await loggedIn(sim, agent);
      expect((await download(disk.descriptorUrl, { agent, cookie: other.cookie })).status).toBe(200);
      expect((await soap(sim, logout(other.c), { agent, cookie: other.cookie })).status).toBe(200);
      expect((await download(disk.descriptorUrl, { agent, cookie: other.cookie })).status).toBe(401);
    });
  });

  describe('changed-block tracking: QueryChangedDiskAreas between snapshots, simulated from the flat extents in 64 KiB chunks', () => {
    const MiB = 1024 * 1024;
    const CHUNK = 64 * 1024;
    const CAPACITY = 8 * MiB;
    /** vSphere's changeId: the uuid of the disk's tracking file as vSphere shows uuids, then /<sequence> */
    const CHANGE_ID = /^([0-9a-f]{2} ){7}[0-9a-f]{2}-([0-9a-f]{2} ){7}[0-9a-f]{2}\/\d+$/;
    let sim: VcsimProcess;
    let api: Awaited<ReturnType<typeof client>>;
    /** a VM: its moref and its first disk (device key, backing fileName, local flat extent) */
    interface Vm {
      id: string;
      diskKey: string;
      fileName: string;
      flatFile: string;
    }
    let tracked: Vm; // DC0_H0_VM0, whose changes are tracked
    let untracked: Vm; // DC0_C0_RP0_VM0, left as the model made it
    let first: { snapshot: string; changeId: string };
    let second: { snapshot: string; changeId: string };

    /** raw SOAP on one simulator, over its pinned certificate and on a session of its own */
    async function client(on: VcsimProcess) {
      const agent = await pinnedAgent(on);
      const session = await loggedIn(on, agent);
      const call = (body: string, cookie: string | undefined = session.cookie) => soap(on, body, { agent, cookie });
      /** `paths` of one object */
      const read = async (type: string, id: string, paths: string[]) => {
        const res = await call(
          `<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">${session.c.propertyCollector}</_this><specSet><propSet><type>${type}</type>` +
            paths.map((p) => `<pathSet>${p}</pathSet>`).join('') +
            `</propSet><objectSet><obj type="${type}">${id}</obj></objectSet></specSet><options/></RetrievePropertiesEx>`,
        );
        expect(res.status, res.xml).toBe(200);
        return res.xml;
      };
      /** runs a task method and returns its info.result: the simulator runs tasks before answering */
      const runTask = async (body: string) => {
        const res = await call(body);
        expect(res.status, res.xml).toBe(200);
        const info = await read('Task', tag(res.xml, 'returnval')!, ['info']);
        expect(tag(info, 'state'), info).toBe('success');
        return tag(info, 'result');
      };
      /** each VM by name: its moref and its first disk (device key, backing fileName, local flat extent) */
      const vms = async () => {
        const view = await call(containerView(session.c, ['VirtualMachine']));
        const res = await call(retrieveFromView(session.c, tag(view.xml, 'returnval')!, { VirtualMachine: ['name', 'config.hardware.device'] }));
        expect(res.status, res.xml).toBe(200);
        const byName: Record<string, Vm> = {};
        for (const [, o] of res.xml.matchAll(/<objects>([\s\S]*?)<\/objects>/g)) {
          const disk = diskOf(o);
          const [, dsName, dir, file] = /^\[([^\]]+)\] ([^/]+)\/(.+)\.vmdk$/.exec(disk.fileName)!;
          const ds = on.datastores.find((d) => d.name === dsName)!;
          byName[tag(o, 'val')!] = {
            id: /<obj type="VirtualMachine">([^<]+)<\/obj>/.exec(o)![1],
            diskKey: disk.key,
            fileName: disk.fileName,
            flatFile: path.join(ds.path, dir, `${file}-flat.vmdk`),
          };
        }
        return byName;
      };
      return {
        read,
        runTask,
        vms,
        reconfigure: (vm: Vm, enabled: boolean) =>
          runTask(
            `<ReconfigVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">${vm.id}</_this><spec><changeTrackingEnabled>${enabled}</changeTrackingEnabled></spec></ReconfigVM_Task>`,
          ),
        /** CreateSnapshot_Task: the new snapshot's moref */
        snapshot: async (vm: Vm, name: string) =>
          (await runTask(
            `<CreateSnapshot_Task xmlns="urn:vim25"><_this type="VirtualMachine">${vm.id}</_this><name>${name}</name><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>`,
          ))!,
        query: (vm: Vm, o: { snapshot?: string; changeId: string; startOffset?: number; deviceKey?: string }, cookie?: string) =>
          call(
            `<QueryChangedDiskAreas xmlns="urn:vim25"><_this type="VirtualMachine">${vm.id}</_this>` +
              (o.snapshot ? `<snapshot type="VirtualMachineSnapshot">${o.snapshot}</snapshot>` : '') +
              `<deviceKey>${o.deviceKey ?? vm.diskKey}</deviceKey><startOffset>${o.startOffset ?? 0}</startOffset><changeId>${o.changeId}</changeId></QueryChangedDiskAreas>`,
            cookie,
          ),
      };
    }
    /** the first VirtualDisk of a config.hardware.device answer */
    const diskOf = (xml: string) => {
      const disk = /<VirtualDevice [^>]*type="VirtualDisk">([\s\S]*?)<\/VirtualDevice>/.exec(xml)![1];
      return { key: tag(disk, 'key')!, fileName: tag(disk, 'fileName')!, changeId: tag(disk, 'changeId') };
    };
    /** the DiskChangeInfo of an answer: [startOffset, length] and the changed areas as [start, length] */
    const areas = async (answer: Promise<SoapAnswer>) => {
      const res = await answer;
      expect(res.status, res.xml).toBe(200);
      expect(res.xml).toContain('<QueryChangedDiskAreasResponse xmlns="urn:vim25"><returnval><startOffset>');
      const [, start, length] = /<returnval><startOffset>(\d+)<\/startOffset><length>(\d+)<\/length>/.exec(res.xml)!;
      return {
        range: [Number(start), Number(length)],
        changed: [...res.xml.matchAll(/<changedArea><start>(\d+)<\/start><length>(\d+)<\/length><\/changedArea>/g)].map(([, s, l]) => [Number(s), Number(l)]),
      };
    };
    const write = async (file: string, offset: number, bytes: Buffer) => {
      const f = await open(file, 'r+');
      try {
        await f.write(bytes, 0, bytes.length, offset);
      } finally {
        await f.close();
      }
    };
    const expectInvalid = (res: SoapAnswer, property: string) => {
      expectFault(res, 'InvalidArgument');
      expect(tag(res.xml, 'invalidProperty')).toBe(property);
    };

    beforeAll(async () => {
      sim = await spawnVcsim({ vms: 1, diskMb: 8 });
      api = await client(sim);
      ({ DC0_H0_VM0: tracked, DC0_C0_RP0_VM0: untracked } = await api.vms());
    });
    afterAll(async () => {
      await sim?.stop();
    });

    it('every VM reports capability.changeTrackingSupported, and config.changeTrackingEnabled false until a ReconfigVM_Task sets it', async () => {
      for (const vm of [tracked, untracked]) {
        const xml = await api.read('VirtualMachine', vm.id, ['capability.changeTrackingSupported', 'config.changeTrackingEnabled']);
        expect(objects(xml)[0].props).toEqual({ 'capability.changeTrackingSupported': 'true', 'config.changeTrackingEnabled': 'false' });
      }
      await api.reconfigure(tracked, true);
      expect(tag(await api.read('VirtualMachine', tracked.id, ['config.changeTrackingEnabled']), 'val')).toBe('true');
    });

    it("a snapshot gives the disk a changeId in vSphere's format; the VM's own disk gets the same", async () => {
      await write(tracked.flatFile, MiB + 100, Buffer.from('ferry:0123456789')); // chunk 16
      await write(tracked.flatFile, 3 * MiB - 10, Buffer.alloc(70_000, 0xab)); // chunks 47, 48 and 49
      const snap = await api.snapshot(tracked, 'first');
      expect(tag(await api.read('VirtualMachine', tracked.id, ['snapshot.currentSnapshot']), 'val')).toBe(snap);
      const disk = diskOf(await api.read('VirtualMachineSnapshot', snap, ['config.hardware.device']));
      expect(disk.key).toBe(tracked.diskKey);
      expect(disk.changeId).toMatch(CHANGE_ID);
      expect(diskOf(await api.read('VirtualMachine', tracked.id, ['config.hardware.device'])).changeId).toBe(disk.changeId);
      first = { snapshot: snap, changeId: disk.changeId! };
    });

    it('changeId "*" answers the allocated areas: the chunks written, 64 KiB aligned and merged, from startOffset on', async () => {
      expect(await areas(api.query(tracked, { snapshot: first.snapshot, changeId: '*' }))).toEqual({
        range: [0, CAPACITY],
        changed: [
          [MiB, CHUNK],
          [47 * CHUNK, 3 * CHUNK],
        ],
      });
      // an area across startOffset is cut there, those before it left out
      expect(await areas(api.query(tracked, { snapshot: first.snapshot, changeId: '*', startOffset: 3 * MiB }))).toEqual({
        range: [3 * MiB, CAPACITY - 3 * MiB],
        changed: [[3 * MiB, 2 * CHUNK]],
      });
    });

    it('a second snapshot: its changeId moves on, and the changes since the first changeId are exactly what was written in between', async () => {
      await write(tracked.flatFile, 3 * MiB, Buffer.alloc(CHUNK)); // chunk 48 zeroed: changed, and no longer allocated
      await write(tracked.flatFile, 6 * MiB + 5, Buffer.from('x')); // chunk 96
      await write(tracked.flatFile, MiB + 100, Buffer.from('ferry:0123456789')); // the same bytes again: no change in content
      const snap = await api.snapshot(tracked, 'second');
      const disk = diskOf(await api.read('VirtualMachineSnapshot', snap, ['config.hardware.device']));
      expect(disk.changeId).toMatch(CHANGE_ID);
      expect(disk.changeId).not.toBe(first.changeId);
      expect(disk.changeId!.split('/')[0]).toBe(first.changeId.split('/')[0]); // the same disk, a later sequence
      second = { snapshot: snap, changeId: disk.changeId! };
      // the VM's disk moved on with it; the first snapshot's disk was copied, not shared, and kept its changeId
      expect(diskOf(await api.read('VirtualMachine', tracked.id, ['config.hardware.device'])).changeId).toBe(second.changeId);
      expect(diskOf(await api.read('VirtualMachineSnapshot', first.snapshot, ['config.hardware.device'])).changeId).toBe(first.changeId);

      expect(await areas(api.query(tracked, { snapshot: second.snapshot, changeId: first.changeId }))).toEqual({
        range: [0, CAPACITY],
        changed: [
          [3 * MiB, CHUNK],
          [6 * MiB, CHUNK],
        ],
      });
      expect((await areas(api.query(tracked, { snapshot: second.snapshot, changeId: first.changeId, startOffset: 3 * MiB + 4096 }))).changed).toEqual([
        [3 * MiB + 4096, CHUNK - 4096],
        [6 * MiB, CHUNK],
      ]);
      expect((await areas(api.query(tracked, { snapshot: second.snapshot, changeId: second.changeId }))).changed).toEqual([]);
      expect((await areas(api.query(tracked, { snapshot: second.snapshot, changeId: '*' }))).changed).toEqual([
        [MiB, CHUNK],
        [47 * CHUNK, CHUNK],
        [49 * CHUNK, CHUNK],
        [6 * MiB, CHUNK],
      ]);
    });

    it('a VM not tracking changes: its snapshot gives the disk no changeId, and QueryChangedDiskAreas faults FileFault naming the disk', async () => {
      const snap = await api.snapshot(untracked, 'plain');
      expect(diskOf(await api.read('VirtualMachineSnapshot', snap, ['config.hardware.device'])).changeId).toBeUndefined();
      const res = await api.query(untracked, { snapshot: snap, changeId: '*' });
      expectFault(res, 'FileFault');
      expect(tag(res.xml, 'file')).toBe(untracked.fileName);
      expect(tag(res.xml, 'faultstring')).toBe(`Error caused by file ${untracked.fileName}`);
    });

    it('faults InvalidArgument for an unknown changeId, a snapshot not of this VM or missing, an unknown deviceKey; NotAuthenticated without a session', async () => {
      const [uuid] = first.changeId.split('/');
      for (const changeId of [`${uuid}/999`, '52 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00/1', 'garbage']) {
        expectInvalid(await api.query(tracked, { snapshot: second.snapshot, changeId }), 'changeId');
      }
      const other = tag(await api.read('VirtualMachine', untracked.id, ['snapshot.currentSnapshot']), 'val')!;
      expectInvalid(await api.query(tracked, { snapshot: other, changeId: '*' }), 'snapshot');
      expectInvalid(await api.query(tracked, { changeId: '*' }), 'snapshot');
      expectInvalid(await api.query(tracked, { snapshot: second.snapshot, changeId: '*', deviceKey: '9999' }), 'deviceKey');
      expectInvalid(await api.query(tracked, { snapshot: second.snapshot, changeId: '*', startOffset: CAPACITY }), 'startOffset');
      expectFault(await api.query(tracked, { snapshot: second.snapshot, changeId: '*' }, 'vmware_soap_session=nobody'), 'NotAuthenticated');
    });

    it('RemoveSnapshot_Task still works; the changeIds of removed snapshots stay usable', async () => {
      await api.runTask(`<RemoveSnapshot_Task xmlns="urn:vim25"><_this type="VirtualMachineSnapshot">${first.snapshot}</_this><removeChildren>false</removeChildren></RemoveSnapshot_Task>`);
      expectInvalid(await api.query(tracked, { snapshot: first.snapshot, changeId: '*' }), 'snapshot');
      expect((await areas(api.query(tracked, { snapshot: second.snapshot, changeId: first.changeId }))).changed).toEqual([
        [3 * MiB, CHUNK],
        [6 * MiB, CHUNK],
      ]);
      expect(tag(await api.read('VirtualMachine', tracked.id, ['snapshot.currentSnapshot']), 'val')).toBe(second.snapshot);
    });

    it('noCbt: every VM reports capability.changeTrackingSupported false; enabling tracking still reconfigures, but snapshots get no changeId and queries fault FileFault', async () => {
      const other = await spawnVcsim({ vms: 1, diskMb: 8, noCbt: true });
      try {
        const on = await client(other);
        const vms = await on.vms();
        for (const vm of Object.values(vms)) {
          expect(tag(await on.read('VirtualMachine', vm.id, ['capability.changeTrackingSupported']), 'val')).toBe('false');
        }
        const vm = vms.DC0_H0_VM0;
        await on.reconfigure(vm, true);
        expect(tag(await on.read('VirtualMachine', vm.id, ['config.changeTrackingEnabled']), 'val')).toBe('true');
        const snap = await on.snapshot(vm, 'no-cbt');
        expect(diskOf(await on.read('VirtualMachineSnapshot', snap, ['config.hardware.device'])).changeId).toBeUndefined();
        const res = await on.query(vm, { snapshot: snap, changeId: '*' });
        expectFault(res, 'FileFault');
        expect(tag(res.xml, 'file')).toBe(vm.fileName);
      } finally {
        await other.stop();
      }
    });
  });

  it('-cert-dir serves one certificate across restarts (same port), another with another directory', async () => {
    const dirs = await Promise.all([1, 2].map(() => mkdtemp(path.join(os.tmpdir(), 'ferry-vcsim-cert-'))));
    let sim: VcsimProcess | undefined;
    try {
      /** start on `port` with certificate directory `dir`: the printed and served SHA-256, and the file's */
      const start = async (dir: string, port?: number) => {
        sim = await spawnVcsim({ certDir: dir, port, vms: 1 });
        const served = await servedCertificate(sim);
        const file = new X509Certificate(await readFile(path.join(dir, 'cert.pem')));
        expect(served.fingerprint256).toBe(sim.sha256);
        expect(served.fingerprint).toBe(sim.thumbprint);
        expect(file.fingerprint256).toBe(sim.sha256);
        expect(served.subject.CN).toBe('vcsim');
        expect(served.subjectaltname).toContain('IP Address:127.0.0.1');
        // usable: a client pinning it talks SOAP over it
        expect(tag((await soap(sim, SERVICE_CONTENT, { agent: await pinnedAgent(sim) })).xml, 'apiType')).toBe('VirtualCenter');
        const { url, sha256 } = sim;
        await sim.stop();
        return { url, sha256 };
      };
      const first = await start(dirs[0]);
      const port = Number(new URL(first.url).port);
      const again = await start(dirs[0], port);
      expect(again).toEqual(first); // same port, same certificate
      const other = await start(dirs[1], port);
      expect(other.url).toBe(first.url);
      expect(other.sha256).not.toBe(first.sha256);
    } finally {
      await sim?.stop();
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});
