import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { freePort } from './support/ports.js';
import { spawnFerry, type FerryProcess } from './support/transport-fixture.js';
import { spawnVcsim, type VcsimProcess, type VcsimOptions } from './support/vcsim.js';
import { addDatacenterTransport } from './support/vsphere-fixture.js';

/** A platform whose certificate, password or address changes after it was added. */
describe('a vSphere platform that changes: certificate renewed, password changed', () => {
  let dir: string;
  let t: TestFerry;
  let token: string;
  let transport: FerryProcess;
  let vc: VcsimProcess;
  let port: number;
  let transId: string;
  let platformId: string;
  const call = (body: Record<string, unknown>) => rest(t.url, '/portal/MgmtHostConnection', body, token);
  const vcsim = (certDir: string, more: VcsimOptions = {}) => spawnVcsim({ port, certDir: path.join(dir, certDir), vms: 2, ...more });
  const stored = async () => (await t.ferry.db.orm.em.getConnection().execute(`select user_name, passwd_sealed, cert_thumbprint from vsphere_platforms`))[0];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-vsphere-changes-'));
    port = await freePort();
    [transport, vc] = await Promise.all([spawnFerry('transport', ['--state', path.join(dir, 'transport')]), vcsim('cert-a')]);
    t = await startTestFerry();
    token = await adminToken(t.url);
    transId = await addDatacenterTransport(t.url, token, transport);
    const added = await call({ Action: 'AddVSPlatform', Name: 'vc', Ip: vc.url, UserName: vc.username, Passwd: vc.password, TransId: transId });
    expect(added.body, added.text).toMatchObject({ Code: 0, Data: { Count: vc.counts.vms, CertThumbprint: vc.sha256 } });
    expect(added.body.Msg).toContain(`Certificate SHA-256 ${vc.sha256} recorded`);
    platformId = added.body.Data.ID;
  }, 120_000);
  afterAll(async () => {
    await Promise.all([transport?.stop(), vc?.stop()]);
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the password encrypted at rest and out of every answer', async () => {
    const row = await stored();
    expect(row.passwd_sealed).not.toContain(vc.password);
    expect(row.passwd_sealed).toMatch(/^v1\./);
    const listed = await call({ Action: 'ListHosts' });
    const tree = await call({ Action: 'ListVSHosts' });
    for (const text of [listed.text, tree.text]) expect(text).not.toMatch(/"Passw(or)?d"|passwd_sealed|"pass"/i);
  });

  it('refuses a renewed certificate until its new thumbprint is given, then reads on', async () => {
    const before = vc.sha256;
    await vc.stop();
    vc = await vcsim('cert-b');
    expect(vc.sha256).not.toBe(before);
    const refused = await call({ Action: 'RefreshVSPlatform', ID: platformId });
    expect(refused.status).toBe(502);
    expect(refused.body.Msg).toMatch(new RegExp(`the TLS certificate changed: its SHA-256 thumbprint is ${vc.sha256}, not ${before} as recorded\\. If the platform's certificate was renewed on purpose, give its new thumbprint as CertThumbprint to UpdateVSPlatform\\.$`));
    const verify = await call({ Action: 'VerifyVSPlatformConnection', VSPlatformID: platformId });
    expect(verify.status).toBe(502);

    const wrongPin = await call({ Action: 'UpdateVSPlatform', ID: platformId, CertThumbprint: before });
    expect(wrongPin.status).toBe(502);
    expect((await stored()).cert_thumbprint).toBe(before);
    const accepted = await call({ Action: 'UpdateVSPlatform', ID: platformId, CertThumbprint: vc.sha256 });
    expect(accepted.body, accepted.text).toMatchObject({ Code: 0 });
    expect((await stored()).cert_thumbprint).toBe(vc.sha256);
    expect((await call({ Action: 'RefreshVSPlatform', ID: platformId })).body).toMatchObject({ Code: 0 });
  });

  it('tries new credentials before keeping them: a wrong password changes nothing', async () => {
    await vc.stop();
    vc = await vcsim('cert-b', { password: 'n3w-secret' });
    const sealedBefore = (await stored()).passwd_sealed;
    expect((await call({ Action: 'RefreshVSPlatform', ID: platformId })).body.Msg).toMatch(/InvalidLogin/);
    const wrong = await call({ Action: 'UpdateVSPlatform', ID: platformId, Passwd: 'not-it' });
    expect(wrong.status).toBe(502);
    expect(wrong.body.Msg).toMatch(/InvalidLogin.*\(check UserName and Passwd\)/);
    expect(wrong.text).not.toContain('not-it');
    expect((await stored()).passwd_sealed).toBe(sealedBefore);
    const right = await call({ Action: 'UpdateVSPlatform', ID: platformId, Passwd: 'n3w-secret', Name: 'vc-renamed' });
    expect(right.body).toMatchObject({ Code: 0 });
    expect((await stored()).passwd_sealed).not.toBe(sealedBefore);
    expect((await call({ Action: 'VerifyVSPlatformConnection', VSPlatformID: platformId })).body).toMatchObject({ Code: 0 });
    expect((await call({ Action: 'ListHosts' })).body.Data.VSPlatforms[0].Name).toBe('vc-renamed');
  });

  it('verifies from the transport too: an unknown TransAddr, and a platform the transport cannot reach', async () => {
    const unknown = await call({ Action: 'VerifyVSPlatformConnection', VSPlatformID: platformId, TransAddr: '127.0.0.1:1' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.Msg).toBe('No registered transport server has the address 127.0.0.1:1.');
    expect((await call({ Action: 'VerifyVSPlatformConnection', VSPlatformID: platformId, TransAddr: transport.addr })).body).toMatchObject({ Code: 0 });
    await vc.stop();
    const down = await call({ Action: 'VerifyVSPlatformConnection', VSPlatformID: platformId, TransAddr: transport.addr });
    expect(down.status).toBe(502);
    expect(down.body.Msg).toMatch(new RegExp(`^Transport server "dc-side" cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });
});
