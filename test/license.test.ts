import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, importSPKI } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLicenseKeyPair, issueActivationKey } from '../src/services/license/activation-key.js';
import { CurrentLicenseDocument, LicenseActivateDocument, LicenseDeleteDocument, NodeByIdDocument } from './generated/graphql.js';
import { graphql, rest } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);
const RFC3339_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;

describe('license activation', () => {
  let t: TestFerry;
  let token: string;
  let vendor: { privatePem: string; publicPem: string };
  const activate = (key: string) => rest(t.url, '/MgntSetting', { Action: 'UpdateLicense', ActivationKey: key }, token);

  beforeAll(async () => {
    vendor = await generateLicenseKeyPair();
    t = await startTestFerry({ licensePublicKey: vendor.publicPem });
    token = await adminToken(t.url);
  });
  afterAll(() => t.close());

  it('accepts a vendor-signed key and reports it in the documented shape', async () => {
    const id = randomUUID();
    const expires = inDays(365);
    const r = await activate(await issueActivationKey(vendor.privatePem, 100, expires, id));
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^\{"Code":true,"Msg":"[^"]+","Data":\{"Credits":100,"ExpireTime":"[^"]+","Id":"[^"]+","Used":0\}\}$/);
    expect(r.body.Data.Id).toBe(id);
    expect(r.body.Data.ExpireTime).toMatch(RFC3339_WITH_OFFSET);
    expect(Math.abs(new Date(r.body.Data.ExpireTime).getTime() - expires.getTime())).toBeLessThan(1000);

    const got = await rest(t.url, '/MgntSetting', { Action: 'GetLicense' }, token);
    expect(got.body.Data).toEqual(r.body.Data);

    const gql = await graphql(t.url, CurrentLicenseDocument, {}, token);
    expect(gql.data?.license).toMatchObject({ licenseId: id, credits: 100, used: 0, remaining: 100, expired: false });
    const node = await graphql(t.url, NodeByIdDocument, { id: gql.data!.license!.id }, token);
    expect(node.data?.node).toMatchObject({ __typename: 'License', licenseId: id });
  });

  it('refuses a key signed by another vendor key', async () => {
    const other = await generateLicenseKeyPair();
    const r = await activate(await issueActivationKey(other.privatePem, 10, inDays(30)));
    expect(r.status).toBe(422);
    expect(r.body).toEqual({ Code: false, Msg: "ActivationKey signature does not match the vendor's public key.", Data: null });
  });

  it('refuses a key past its expiry', async () => {
    const key = await new SignJWT({ credits: 5 })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setJti(randomUUID())
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(await (await import('jose')).importPKCS8(vendor.privatePem, 'EdDSA'));
    const r = await activate(key);
    expect(r.status).toBe(422);
    expect(r.body.Msg).toMatch(/^ActivationKey expired on \d{4}-/);
  });

  it('refuses tampered claims (more credits written into a real key)', async () => {
    const key = await issueActivationKey(vendor.privatePem, 10, inDays(30));
    const [h, p, s] = key.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const richer = Buffer.from(JSON.stringify({ ...claims, credits: 100000 })).toString('base64url');
    const r = await activate(`${h}.${richer}.${s}`);
    expect(r.status).toBe(422);
    expect(r.body.Msg).toContain('signature does not match');
  });

  it('refuses another algorithm, a non-JWT, and bad claims, naming the problem', async () => {
    const hs = await new SignJWT({ credits: 5 }).setProtectedHeader({ alg: 'HS256' }).setJti(randomUUID()).setIssuedAt().setExpirationTime('1d').sign(new TextEncoder().encode('x'.repeat(32)));
    expect((await activate(hs)).body.Msg).toBe('ActivationKey is signed with HS256; only EdDSA (Ed25519) keys are accepted.');
    expect((await activate('hello')).body.Msg).toContain('is not a license key');
    const key = await (await import('jose')).importPKCS8(vendor.privatePem, 'EdDSA');
    const zero = await new SignJWT({ credits: 0 }).setProtectedHeader({ alg: 'EdDSA' }).setJti(randomUUID()).setIssuedAt().setExpirationTime('1d').sign(key);
    expect((await activate(zero)).body.Msg).toBe('ActivationKey claim "credits" must be a positive integer.');
    const noJti = await new SignJWT({ credits: 3 }).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt().setExpirationTime('1d').sign(key);
    expect((await activate(noJti)).body.Msg).toBe('ActivationKey claim "jti" is missing or invalid.');
    const missing = await rest(t.url, '/MgntSetting', { Action: 'UpdateLicense' }, token);
    expect(missing.status).toBe(400);
    expect(missing.body.Msg).toBe('ActivationKey is required.');
  });

  it('left the active license untouched through every refusal', async () => {
    const got = await rest(t.url, '/MgntSetting', { Action: 'GetLicense' }, token);
    expect(got.body.Data.Credits).toBe(100);
  });

  it('is deleted through REST and GraphQL, after which GetLicense says there is none', async () => {
    const del = await rest(t.url, '/MgntSetting', { Action: 'DeleteLicense' }, token);
    expect(del.text).toBe('{"Code":true,"Msg":"Delete License Success.","Data":null}');
    const none = await rest(t.url, '/MgntSetting', { Action: 'GetLicense' }, token);
    expect(none.status).toBe(404);
    expect(none.body).toEqual({ Code: false, Msg: 'No license is activated.', Data: null });
    expect((await rest(t.url, '/MgntSetting', { Action: 'DeleteLicense' }, token)).status).toBe(404);

    const key = await issueActivationKey(vendor.privatePem, 7, inDays(10));
    const gql = await graphql(t.url, LicenseActivateDocument, { input: { activationKey: key } }, token);
    expect(gql.data?.licenseActivate.license?.credits).toBe(7);
    const bad = await graphql(t.url, LicenseActivateDocument, { input: { activationKey: 'x.y.z' } }, token);
    expect(bad.data?.licenseActivate.userErrors[0]).toMatchObject({ field: 'activationKey', code: 'LICENSE_INVALID' });
    const gqlDel = await graphql(t.url, LicenseDeleteDocument, {}, token);
    expect(gqlDel.data?.licenseDelete).toEqual({ deleted: true, userErrors: [] });
    expect((await graphql(t.url, CurrentLicenseDocument, {}, token)).data?.license).toBeNull();
    const again = await graphql(t.url, LicenseDeleteDocument, {}, token);
    expect(again.data?.licenseDelete).toMatchObject({ deleted: false, userErrors: [{ code: 'NOT_FOUND' }] });
  });
});

describe('the vendor public key setting', () => {
  it('takes a file path or an inline JWK', async () => {
    const vendor = await generateLicenseKeyPair();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-lic-'));
    const file = path.join(dir, 'vendor.pem');
    await writeFile(file, vendor.publicPem);
    const jwk = JSON.stringify(await exportJWK(await importSPKI(vendor.publicPem, 'EdDSA', { extractable: true })));
    for (const setting of [file, jwk]) {
      const t = await startTestFerry({ licensePublicKey: setting });
      try {
        const token = await adminToken(t.url);
        const r = await rest(t.url, '/MgntSetting', { Action: 'UpdateLicense', ActivationKey: await issueActivationKey(vendor.privatePem, 3, inDays(3)) }, token);
        expect(r.body.Code).toBe(true);
      } finally {
        await t.close();
      }
    }
  });

  it('when unset, activation is refused with a message naming the setting', async () => {
    const t = await startTestFerry({ licensePublicKey: undefined });
    try {
      const token = await adminToken(t.url);
      const r = await rest(t.url, '/MgntSetting', { Action: 'UpdateLicense', ActivationKey: 'a.b.c' }, token);
      expect(r.status).toBe(503);
      expect(r.body.Msg).toContain('FERRY_LICENSE_PUBLIC_KEY');
    } finally {
      await t.close();
    }
  });
});
