import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInventory } from '../src/drivers/vsphere/inventory.js';
import { retrieveOne } from '../src/drivers/vsphere/property-collector.js';
import { text, textXml, type XmlNode } from '../src/drivers/vsphere/soap-xml.js';
import { VimSession, type VimOptions } from '../src/drivers/vsphere/vim-session.js';
import { spawnVcsim, type VcsimProcess } from './support/vcsim.js';
import { sleep } from './support/wait.js';

/** Ferry's vim25 client against vcsim: sessions that end under it, ESXi, and what it refuses. */
describe('the vSphere client and its sessions', () => {
  let vc: VcsimProcess;
  let idle: VcsimProcess;
  let esx: VcsimProcess;
  const options = (v: VcsimProcess): VimOptions => ({ address: v.url, userName: v.username, password: v.password, pinnedSha256: v.sha256 });

  beforeAll(async () => {
    [vc, idle, esx] = await Promise.all([spawnVcsim({ clusterHosts: 2, hosts: 2, vms: 6, pageSize: 5 }), spawnVcsim({ sessionIdleSeconds: 1 }), spawnVcsim({ mode: 'esx', vms: 3 })]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([vc?.stop(), idle?.stop(), esx?.stop()]);
  });

  it('a session ended by vCenter in the middle of a paged walk: logs in again and walks again, losing nothing', async () => {
    const walker = await VimSession.open(options(vc));
    const admin = await VimSession.open(options(vc));
    const current = (await retrieveOne(walker, walker.content.sessionManager, ['currentSession'])).get('currentSession') as XmlNode;
    let pages = 0;
    const inv = await readInventory(walker, {
      pageSize: 5,
      onPage: async () => {
        if (++pages === 1) await admin.call('TerminateSession', admin.content.sessionManager, textXml('sessionId', text(current.key)!), 'end the walker’s session');
      },
    });
    expect(walker.generation).toBe(2);
    expect(pages).toBeGreaterThan(2);
    expect(inv.vms).toHaveLength(vc.counts.vms);
    expect(new Set(inv.vms.map((v) => v.instanceUuid)).size).toBe(vc.counts.vms);
    expect(inv.hosts).toHaveLength(vc.counts.hosts);
    await Promise.all([walker.close(), admin.close()]);
  });

  it('a session that expired while idle is renewed on the next call, a property read (answered with missingSet) or a method (a fault)', async () => {
    const session = await VimSession.open(options(idle));
    await sleep(2_500);
    const root = await retrieveOne(session, session.content.rootFolder, ['name']);
    expect(text(root.get('name'))).toBe('Datacenters');
    expect(session.generation).toBe(2);
    await sleep(2_500);
    const inv = await readInventory(session);
    expect(session.generation).toBe(3);
    expect(inv.vms).toHaveLength(idle.counts.vms);
    await session.close();
  });

  it('tells an ESXi host from a vCenter and reads its one datacenter', async () => {
    const session = await VimSession.open(options(esx));
    expect(session.isVcenter).toBe(false);
    expect(session.about.apiType).toBe('HostAgent');
    const inv = await readInventory(session);
    expect(inv.datacenters).toHaveLength(1);
    expect(inv.clusters).toEqual([]);
    expect(inv.hosts).toEqual([{ moref: expect.any(String), name: expect.any(String), datacenter: inv.datacenters[0].moref, cluster: null }]);
    expect(inv.vms).toHaveLength(esx.counts.vms);
    expect(inv.vms.every((v) => v.host === inv.hosts[0].moref)).toBe(true);
    await session.close();
  });

  it('refuses a self-signed certificate without its thumbprint, and one whose thumbprint is not the recorded one, before sending anything', async () => {
    const untrusted = await VimSession.open({ ...options(vc), pinnedSha256: undefined }).catch((e: Error) => e);
    expect(untrusted).toMatchObject({ kind: 'tls-untrusted', message: expect.stringContaining(`its SHA-256 thumbprint is ${vc.sha256}`) });
    const other = Array(32).fill('0F').join(':');
    const changed = await VimSession.open({ ...options(vc), pinnedSha256: other }).catch((e: Error) => e);
    expect(changed).toMatchObject({ kind: 'tls-changed', message: expect.stringContaining(`is ${vc.sha256}, not ${other} as recorded`) });
  });

  it('names a wrong password, an address that is not vSphere, and one nothing answers, without the password', async () => {
    const wrong = await VimSession.open({ ...options(vc), password: 'hunter2' }).catch((e: Error) => e);
    expect(wrong).toMatchObject({ kind: 'invalid-login', fault: 'InvalidLogin' });
    expect(String((wrong as Error).message)).not.toContain('hunter2');
    const dead = await VimSession.open({ ...options(vc), address: 'https://127.0.0.1:9/sdk' }).catch((e: Error) => e);
    expect(dead).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/ECONNREFUSED/) });
    const notSoap = await VimSession.open({ ...options(vc), address: vc.url.replace('/sdk', '/nothing-here') }).catch((e: Error) => e);
    expect(notSoap).toMatchObject({ kind: 'bad-response' });
  });
});
