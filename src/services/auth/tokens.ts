import { randomUUID } from 'node:crypto';
import { SignJWT, errors, exportJWK, generateKeyPair, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ServerKey } from '../../../entities/index.js';

export const TOKEN_ISSUER = 'ferry';
export const TOKEN_AUDIENCE = 'ferry-api';
const ALGORITHM = 'EdDSA';
const KEY_NAME = 'token-signing-key';

export interface TokenClaims {
  userId: string;
  sessionId: string;
  jti: string;
  expiresAt: Date;
}

export type TokenRefusal = 'expired' | 'invalid';

/** Signs and checks access tokens with an Ed25519 key that Ferry keeps in its database. */
export class TokenSigner {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly kid: string,
  ) {}

  /** Creates the key pair on first start; concurrent first starts agree on one through the insert. */
  static async open(em: EntityManager): Promise<TokenSigner> {
    if (!(await em.findOne(ServerKey, { name: KEY_NAME }))) {
      const { privateKey } = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
      const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID() };
      await em.getConnection().execute(
        'insert into server_keys (name, value) values (?, ?) on conflict (name) do nothing',
        [KEY_NAME, JSON.stringify(jwk)],
      );
    }
    const { value } = await em.findOneOrFail(ServerKey, { name: KEY_NAME });
    const jwk = value as JWK & { kid: string };
    const { d: _private, ...publicJwk } = jwk;
    return new TokenSigner(
      (await importJWK(jwk, ALGORITHM)) as CryptoKey,
      (await importJWK(publicJwk, ALGORITHM)) as CryptoKey,
      jwk.kid,
    );
  }

  async sign(userId: string, sessionId: string, ttlSeconds: number): Promise<{ token: string; claims: TokenClaims }> {
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + ttlSeconds;
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: ALGORITHM, kid: this.kid, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(userId)
      .setJti(jti)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.privateKey);
    return { token, claims: { userId, sessionId, jti, expiresAt: new Date(exp * 1000) } };
  }

  /** Checks signature (EdDSA only), issuer, audience and expiry; revocation is the caller's check. */
  async verify(token: string): Promise<TokenClaims | TokenRefusal> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [ALGORITHM],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        requiredClaims: ['sub', 'jti', 'exp', 'sid'],
      });
      if (typeof payload.sid !== 'string' || typeof payload.sub !== 'string' || typeof payload.jti !== 'string') return 'invalid';
      return { userId: payload.sub, sessionId: payload.sid, jti: payload.jti, expiresAt: new Date(payload.exp! * 1000) };
    } catch (err) {
      return err instanceof errors.JWTExpired ? 'expired' : 'invalid';
    }
  }
}
