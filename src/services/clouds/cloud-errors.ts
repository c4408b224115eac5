import { CloudError } from '../../drivers/cloud/cloud-driver.js';
import { fail, type Result } from '../errors.js';

/**
 * A cloud's failure as a service refusal. Refused credentials point at the password field;
 * anything else is the cloud's (CLOUD_ERROR), with the driver's message naming cloud and call.
 */
export function cloudFailure<T>(err: unknown): Result<T> {
  if (!(err instanceof CloudError)) throw err;
  if (err.kind === 'unauthorized') return fail('CLOUD_ERROR', `${err.message} (check CloudUser and CloudPass)`, 'CloudPass');
  return fail('CLOUD_ERROR', err.message);
}

/** Runs a driver call and turns a CloudError into a refusal. */
export async function fromCloud<T>(call: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    return cloudFailure<T>(err);
  }
}
