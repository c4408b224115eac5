import type { CryptoKey } from 'jose';
import { License } from '../../../entities/index.js';
import { fail, ok, type Result } from '../errors.js';
import type { ServiceDeps } from '../context.js';
import { loadLicensePublicKey, verifyActivationKey } from './activation-key.js';
import { ledgerPage, usedCredits, type LedgerLine } from './ledger.js';
import type { Page, PageRequest } from '../paging.js';

export const LICENSE_CHANNEL = 'ferry_license';

export interface LicenseView {
  id: string;
  credits: number;
  used: number;
  expiresAt: Date;
  issuedAt: Date;
  activatedAt: Date;
}

export class LicenseService {
  private publicKey?: Promise<CryptoKey>;

  constructor(private readonly deps: ServiceDeps) {}

  private vendorKey(): Promise<CryptoKey> | undefined {
    const setting = this.deps.config.licensePublicKey;
    if (!setting) return undefined;
    this.publicKey ??= loadLicensePublicKey(setting);
    return this.publicKey;
  }

  /** Verifies an activation key and makes its license the active one (re-activating a key keeps its ledger). */
  async activate(activationKey: string): Promise<Result<LicenseView>> {
    const keyPromise = this.vendorKey();
    if (!keyPromise) {
      return fail('UNAVAILABLE', 'Ferry cannot verify activation keys: FERRY_LICENSE_PUBLIC_KEY (the vendor public key) is not set.');
    }
    const claims = await verifyActivationKey(activationKey.trim(), await keyPromise);
    if (typeof claims === 'string') return fail('LICENSE_INVALID', claims, 'ActivationKey');
    const view = await this.deps.orm.em.fork().transactional(async (em) => {
      await em.nativeUpdate(License, { active: true, id: { $ne: claims.id } }, { active: false });
      const license = (await em.findOne(License, { id: claims.id })) ?? em.create(License, { id: claims.id, credits: 0, expiresAt: claims.expiresAt, issuedAt: claims.issuedAt, activationKey: '' });
      Object.assign(license, { ...claims, activationKey: activationKey.trim(), active: true, activatedAt: new Date() });
      await em.flush();
      return this.view(license, await usedCredits(em, license.id));
    });
    await this.deps.notify(LICENSE_CHANNEL, view.id);
    this.deps.log.info({ license: view.id, credits: view.credits, expiresAt: view.expiresAt }, 'license activated');
    return ok(view);
  }

  async current(): Promise<Result<LicenseView>> {
    const em = this.deps.orm.em.fork();
    const license = await em.findOne(License, { active: true });
    if (!license) return fail('NOT_FOUND', 'No license is activated.');
    return ok(this.view(license, await usedCredits(em, license.id)));
  }

  /** Deactivates the license; its ledger is kept, so activating the same key again restores `Used`. */
  async remove(): Promise<Result<null>> {
    const changed = await this.deps.orm.em.fork().nativeUpdate(License, { active: true }, { active: false });
    if (!changed) return fail('NOT_FOUND', 'No license is activated.');
    await this.deps.notify(LICENSE_CHANNEL, '');
    this.deps.log.info('license deleted');
    return ok(null);
  }

  /** Credits taken and settled under a license, for audit. */
  async ledger(licenseId: string, request: PageRequest): Promise<Result<Page<LedgerLine>>> {
    return ledgerPage(this.deps.orm.em.fork(), licenseId, request);
  }

  private view(license: License, used: number): LicenseView {
    const { id, credits, expiresAt, issuedAt, activatedAt } = license;
    return { id, credits, used, expiresAt, issuedAt, activatedAt };
  }
}
