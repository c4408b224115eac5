import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { License, LedgerEntryKind, LicenseLedgerEntry } from '../../../entities/index.js';
import { fail, ok, type Result } from '../errors.js';
import { decodeCursor, encodeCursor, type Page, type PageRequest } from '../paging.js';

/** Credits in use on a license: taken minus given back. */
export async function usedCredits(em: EntityManager, licenseId: string): Promise<number> {
  const [row] = await em.getConnection().execute<{ used: string }[]>(
    `select count(*) filter (where kind = 'taken') - count(*) filter (where kind = 'returned') as used
     from license_ledger where license_id = ?`,
    [licenseId],
    'all',
    em.getTransactionContext(),
  );
  return Number(row.used);
}

/**
 * Takes one credit for a new task, in the caller's transaction. The license row is locked,
 * so concurrent task creations never overspend it.
 */
export async function takeCredit(em: EntityManager, taskId: string, now = new Date()): Promise<Result<LicenseLedgerEntry>> {
  const license = await em.findOne(License, { active: true }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!license) return fail('LICENSE_UNAVAILABLE', 'No license is activated; activate one with UpdateLicense before creating tasks.');
  if (license.expiresAt <= now) return fail('LICENSE_UNAVAILABLE', `The license expired on ${license.expiresAt.toISOString()}; activate a new one.`);
  const used = await usedCredits(em, license.id);
  if (used >= license.credits) return fail('LICENSE_UNAVAILABLE', `All ${license.credits} credits of the license are used.`);
  const entry = em.create(LicenseLedgerEntry, { licenseId: license.id, taskId, kind: LedgerEntryKind.Taken });
  await em.flush();
  return ok(entry);
}

/**
 * Settles a deleted task's credit: given back when the task had not finished,
 * kept when the migrated server exists. Settling twice changes nothing.
 */
export async function settleCredit(em: EntityManager, taskId: string, migrated: boolean): Promise<LedgerEntryKind | undefined> {
  const entries = await em.find(LicenseLedgerEntry, { taskId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  const taken = entries.find((e) => e.kind === LedgerEntryKind.Taken);
  const settled = entries.find((e) => e.kind !== LedgerEntryKind.Taken);
  if (!taken) return undefined;
  if (settled) return settled.kind;
  const kind = migrated ? LedgerEntryKind.Kept : LedgerEntryKind.Returned;
  em.create(LicenseLedgerEntry, { licenseId: taken.licenseId, taskId, kind });
  await em.flush();
  return kind;
}

export interface LedgerLine {
  id: string;
  taskId: string;
  kind: LedgerEntryKind;
  createdAt: Date;
}

/** The ledger of one license, oldest first, by keyset pages. */
export async function ledgerPage(em: EntityManager, licenseId: string, request: PageRequest): Promise<Result<Page<LedgerLine>>> {
  const after = request.after === undefined ? undefined : decodeCursor(request.after);
  if (request.after !== undefined && !after) return fail('INVALID_INPUT', 'after is not a cursor returned by this list.', 'after');
  const where = after
    ? { licenseId, $or: [{ createdAt: { $gt: after.createdAt } }, { createdAt: after.createdAt, id: { $gt: after.id } }] }
    : { licenseId };
  const rows = await em.find(LicenseLedgerEntry, where, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: request.first + 1 });
  const totalCount = await em.count(LicenseLedgerEntry, { licenseId });
  const items = rows.slice(0, request.first).map(({ id, taskId, kind, createdAt }) => ({
    cursor: encodeCursor({ createdAt, id }),
    node: { id, taskId, kind, createdAt },
  }));
  return ok({ items, hasNextPage: rows.length > request.first, hasPreviousPage: after !== undefined, totalCount });
}
