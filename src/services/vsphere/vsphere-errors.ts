import { VSphereError } from '../../drivers/vsphere/vsphere-error.js';
import { fail, type Result } from '../errors.js';

/**
 * A vSphere failure as a service refusal: a refused login points at the password, a certificate
 * at the address (with what to do), anything else is vSphere's (VSPHERE_ERROR).
 */
export function vsphereFailure<T>(err: unknown): Result<T> {
  if (!(err instanceof VSphereError)) throw err;
  switch (err.kind) {
    case 'invalid-login':
      return fail('VSPHERE_ERROR', `${err.message} (check UserName and Passwd)`, 'Passwd');
    case 'tls-changed':
      return fail('VSPHERE_ERROR', `${err.message}. If the platform's certificate was renewed on purpose, give its new thumbprint as CertThumbprint to UpdateVSPlatform.`, 'Ip');
    case 'tls-untrusted':
      return fail('VSPHERE_ERROR', `${err.message}. Give that thumbprint as CertThumbprint to accept it.`, 'Ip');
    case 'unreachable':
    case 'timeout':
      return fail('VSPHERE_ERROR', err.message, 'Ip');
    default:
      return fail('VSPHERE_ERROR', err.message);
  }
}

export async function fromVSphere<T>(call: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    return vsphereFailure<T>(err);
  }
}
