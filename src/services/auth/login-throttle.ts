import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { LoginThrottlePolicy } from '../../config.js';
import { LoginAttempt } from '../../../entities/index.js';

/** When the next attempt for a name may be made, given its consecutive failures. */
export function blockedUntilAfter(failures: number, at: Date, policy: LoginThrottlePolicy): Date | undefined {
  if (failures >= policy.lockAfterFailures) return new Date(at.getTime() + policy.lockMs);
  if (failures <= policy.freeFailures) return undefined;
  const wait = policy.baseDelayMs * 2 ** (failures - policy.freeFailures - 1);
  return new Date(at.getTime() + Math.min(wait, policy.lockMs));
}

/** Reads the name's attempt row, locked for this transaction so that parallel guesses queue. */
export async function lockAttempt(em: EntityManager, userName: string): Promise<LoginAttempt> {
  await em.getConnection().execute(
    'insert into login_attempts (user_name, failures) values (?, 0) on conflict (user_name) do nothing',
    [userName],
    'run',
    em.getTransactionContext(),
  );
  return em.findOneOrFail(LoginAttempt, { userName }, { lockMode: LockMode.PESSIMISTIC_WRITE });
}

export function recordFailure(attempt: LoginAttempt, now: Date, policy: LoginThrottlePolicy): void {
  // a failure after a lock has run out starts a fresh count
  if (attempt.failures >= policy.lockAfterFailures) attempt.failures = 0;
  attempt.failures += 1;
  attempt.lastFailureAt = now;
  attempt.blockedUntil = blockedUntilAfter(attempt.failures, now, policy) ?? null;
}

export function recordSuccess(attempt: LoginAttempt): void {
  attempt.failures = 0;
  attempt.blockedUntil = null;
}
