import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager } from '@mikro-orm/postgresql';
import { LedgerEntryKind } from '../entities/index.js';
import { generateLicenseKeyPair, issueActivationKey } from '../src/services/license/activation-key.js';
import { settleCredit, takeCredit } from '../src/services/license/ledger.js';
import { rest } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);

describe('the license ledger', () => {
  let t: TestFerry;
  let token: string;
  let vendor: { privatePem: string; publicPem: string };
  const em = (): EntityManager => t.ferry.db.orm.em.fork() as EntityManager;
  const take = (taskId = randomUUID()) => em().transactional((tx) => takeCredit(tx as EntityManager, taskId));
  const settle = (taskId: string, migrated: boolean) => em().transactional((tx) => settleCredit(tx as EntityManager, taskId, migrated));
  const used = async () => (await rest(t.url, '/MgntSetting', { Action: 'GetLicense' }, token)).body.Data.Used;
  const activate = async (key: string) => expect((await rest(t.url, '/MgntSetting', { Action: 'UpdateLicense', ActivationKey: key }, token)).body.Code).toBe(true);

  beforeAll(async () => {
    vendor = await generateLicenseKeyPair();
    t = await startTestFerry({ licensePublicKey: vendor.publicPem });
    token = await adminToken(t.url);
  });
  afterAll(() => t.close());

  it('refuses a task when no license is active', async () => {
    const r = await take();
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ code: 'LICENSE_UNAVAILABLE', message: expect.stringContaining('No license is activated') }) });
  });

  it('takes a credit per task, gives it back for an unfinished task, keeps it for a migrated one', async () => {
    const licenseId = randomUUID();
    const key = await issueActivationKey(vendor.privatePem, 3, inDays(30), licenseId);
    await activate(key);
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    for (const task of [a, b, c]) expect((await take(task)).ok).toBe(true);
    expect(await used()).toBe(3);

    const full = await take();
    expect(full.ok).toBe(false);
    expect(!full.ok && full.error.message).toBe('All 3 credits of the license are used.');

    expect(await settle(a, false)).toBe(LedgerEntryKind.Returned);
    expect(await used()).toBe(2);
    expect(await settle(a, false)).toBe(LedgerEntryKind.Returned); // settling twice counts once
    expect(await settle(a, true)).toBe(LedgerEntryKind.Returned);
    expect(await used()).toBe(2);

    expect(await settle(b, true)).toBe(LedgerEntryKind.Kept);
    expect(await used()).toBe(2);
    expect(await settle(randomUUID(), false)).toBeUndefined(); // a task that never took a credit

    // deleting and re-activating the same key keeps what was used
    expect((await rest(t.url, '/MgntSetting', { Action: 'DeleteLicense' }, token)).body.Code).toBe(true);
    await activate(key);
    expect(await used()).toBe(2);

    // a new key starts its own count; a task of the old license gives back to the old one
    await activate(await issueActivationKey(vendor.privatePem, 5, inDays(30)));
    expect(await used()).toBe(0);
    expect(await settle(c, false)).toBe(LedgerEntryKind.Returned);
    expect(await used()).toBe(0);
  });

  it('never overspends under concurrent task creation', async () => {
    await activate(await issueActivationKey(vendor.privatePem, 4, inDays(30)));
    const results = await Promise.all(Array.from({ length: 10 }, () => take()));
    expect(results.filter((r) => r.ok)).toHaveLength(4);
    expect(await used()).toBe(4);
  });

  it('refuses tasks once the license has expired', async () => {
    await activate(await issueActivationKey(vendor.privatePem, 4, new Date(Date.now() + 1500)));
    expect((await take()).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 1600));
    const late = await take();
    expect(late.ok).toBe(false);
    expect(!late.ok && late.error.message).toMatch(/^The license expired on /);
    expect(await used()).toBe(1);
  });
});
