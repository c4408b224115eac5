import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  SignJWT, decodeProtectedHeader, errors, exportPKCS8, exportSPKI, generateKeyPair,
  importJWK, importPKCS8, importSPKI, jwtVerify, type CryptoKey,
} from 'jose';
import { UUID } from '../../util/uuid.js';

const ALGORITHM = 'EdDSA';

export interface LicenseClaims {
  id: string;
  credits: number;
  expiresAt: Date;
  issuedAt: Date;
}

/** Reads the vendor's Ed25519 public key: a PEM or JWK given inline, or a path to a file holding one. */
export async function loadLicensePublicKey(setting: string): Promise<CryptoKey> {
  let text = setting.trim();
  if (!text.startsWith('-----BEGIN') && !text.startsWith('{')) text = (await readFile(text, 'utf8')).trim();
  try {
    if (text.startsWith('{')) return (await importJWK(JSON.parse(text), ALGORITHM)) as CryptoKey;
    return await importSPKI(text, ALGORITHM);
  } catch (err) {
    throw new Error(`FERRY_LICENSE_PUBLIC_KEY is not an Ed25519 public key (PEM or JWK): ${(err as Error).message}`);
  }
}

/** Checks an activation key; returns its claims or a message saying plainly what is wrong. */
export async function verifyActivationKey(key: string, publicKey: CryptoKey, now = new Date()): Promise<LicenseClaims | string> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(key).alg;
  } catch {
    return 'ActivationKey is not a license key: expected a signed JWT (three base64url parts separated by dots).';
  }
  if (alg !== ALGORITHM) return `ActivationKey is signed with ${alg ?? 'no algorithm'}; only EdDSA (Ed25519) keys are accepted.`;
  try {
    const { payload } = await jwtVerify(key, publicKey, {
      algorithms: [ALGORITHM],
      requiredClaims: ['jti', 'exp', 'iat'],
      currentDate: now,
    });
    const credits = payload.credits;
    if (typeof credits !== 'number' || !Number.isInteger(credits) || credits < 1) {
      return 'ActivationKey claim "credits" must be a positive integer.';
    }
    if (!UUID.test(payload.jti!)) return 'ActivationKey claim "jti" (the license id) must be a UUID.';
    return { id: payload.jti!.toLowerCase(), credits, expiresAt: new Date(payload.exp! * 1000), issuedAt: new Date(payload.iat! * 1000) };
  } catch (err) {
    if (err instanceof errors.JWTExpired) {
      const exp = (err.payload.exp ?? 0) * 1000;
      return `ActivationKey expired on ${new Date(exp).toISOString()}.`;
    }
    if (err instanceof errors.JWSSignatureVerificationFailed) return "ActivationKey signature does not match the vendor's public key.";
    if (err instanceof errors.JWTClaimValidationFailed) return `ActivationKey claim "${err.claim}" is missing or invalid.`;
    return `ActivationKey could not be verified: ${(err as Error).message}`;
  }
}

/** For vendors and tests: a new Ed25519 key pair in PEM. */
export async function generateLicenseKeyPair(): Promise<{ privatePem: string; publicPem: string }> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
  return { privatePem: await exportPKCS8(privateKey), publicPem: await exportSPKI(publicKey) };
}

/** For vendors and tests: signs an activation key. */
export async function issueActivationKey(privatePem: string, credits: number, expiresAt: Date, id: string = randomUUID()): Promise<string> {
  const key = await importPKCS8(privatePem, ALGORITHM);
  return new SignJWT({ credits })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setJti(id)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key);
}
