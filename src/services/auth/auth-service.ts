import { randomBytes } from 'node:crypto';
import { LoginAttempt, Session, User } from '../../../entities/index.js';
import { fail, ok, type Result } from '../errors.js';
import type { AuthInfo, ServiceDeps } from '../context.js';
import { passwordPolicyViolation } from './password-policy.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';
import { lockAttempt, recordFailure, recordSuccess } from './login-throttle.js';

export const ADMIN_USER = 'admin';
export const SESSION_REVOKED_CHANNEL = 'ferry_session_revoked';

export interface IssuedToken {
  token: string;
  isFirstLogin: boolean;
  expiresAt: Date;
}

const relogin = {
  missing: 'Authorization token is missing; please log in.',
  invalid: 'The token is not valid; please log in again.',
  expired: 'The token has expired; please log in again.',
  revoked: 'The session has ended (logged out); please log in again.',
};

const waitText = (seconds: number) => (seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} s`);

export class AuthService {
  constructor(private readonly deps: ServiceDeps) {}

  /** Creates the `admin` account on first start; returns the generated password if it made one. */
  async ensureAdmin(): Promise<{ created: boolean; generatedPassword?: string }> {
    const em = this.deps.orm.em.fork();
    if (await em.count(User, { userName: ADMIN_USER })) return { created: false };
    const given = this.deps.config.adminPassword;
    if (given) {
      const violation = passwordPolicyViolation(given);
      if (violation) throw new Error(`FERRY_ADMIN_PASSWORD ${violation}`);
    }
    // base64url of 12 bytes has letters and almost surely digits; the suffix guarantees two kinds
    const password = given ?? `${randomBytes(12).toString('base64url')}7`;
    const passwordHash = await hashPassword(password);
    const inserted = await em.getConnection().execute(
      `insert into users (id, user_name, password_hash, is_first_login) values (gen_random_uuid(), ?, ?, true)
       on conflict (user_name) do nothing returning id`,
      [ADMIN_USER, passwordHash],
    );
    if (inserted.length === 0) return { created: false };
    return { created: true, generatedPassword: given ? undefined : password };
  }

  async login(userName: string, password: string): Promise<Result<IssuedToken>> {
    const { config } = this.deps;
    const now = new Date();
    const outcome = await this.deps.orm.em.fork().transactional(async (em) => {
      const attempt = await lockAttempt(em, userName.toLowerCase());
      if (attempt.blockedUntil && attempt.blockedUntil > now) {
        const seconds = Math.ceil((attempt.blockedUntil.getTime() - now.getTime()) / 1000);
        return fail<IssuedToken>('THROTTLED', `Too many failed logins for "${userName}"; try again in ${waitText(seconds)}.`, 'UserName', { retryAfterSeconds: seconds });
      }
      const user = await em.findOne(User, { userName });
      const valid = user ? await verifyPassword(user.passwordHash, password) : (await verifyPassword(await decoyHash(), password), false);
      if (!user || !valid) {
        recordFailure(attempt, now, config.loginThrottle);
        return fail<IssuedToken>('UNAUTHENTICATED', 'Wrong user name or password.', 'Password');
      }
      recordSuccess(attempt);
      const session = em.create(Session, { user, expiresAt: new Date(now.getTime() + config.tokenTtlSeconds * 1000) });
      await em.flush();
      const { token, claims } = await this.deps.signer.sign(user.id, session.id, config.tokenTtlSeconds);
      this.deps.log.info({ user: user.userName, session: session.id }, 'login');
      return ok({ token, isFirstLogin: user.isFirstLogin, expiresAt: claims.expiresAt });
    });
    return outcome;
  }

  /** Who holds this token, or why it is refused. Revocation is read from the database each time. */
  async authenticate(token: string | undefined): Promise<Result<AuthInfo>> {
    if (!token) return fail('UNAUTHENTICATED', relogin.missing);
    const claims = await this.deps.signer.verify(token);
    if (typeof claims === 'string') return fail('UNAUTHENTICATED', relogin[claims]);
    const session = await this.deps.orm.em.fork().findOne(Session, { id: claims.sessionId }, { populate: ['user'] });
    if (!session || session.user.id !== claims.userId) return fail('UNAUTHENTICATED', relogin.invalid);
    if (session.revokedAt) return fail('UNAUTHENTICATED', relogin.revoked);
    const user = session.user.getEntity();
    return ok({
      userId: user.id,
      userName: user.userName,
      sessionId: session.id,
      jti: claims.jti,
      expiresAt: claims.expiresAt,
      isFirstLogin: user.isFirstLogin,
    });
  }

  /** A fresh token for the same session; the old one stays valid until its own expiry. */
  async renew(auth: AuthInfo): Promise<Result<IssuedToken>> {
    const { config } = this.deps;
    const em = this.deps.orm.em.fork();
    const session = await em.findOneOrFail(Session, { id: auth.sessionId });
    const { token, claims } = await this.deps.signer.sign(auth.userId, auth.sessionId, config.tokenTtlSeconds);
    if (claims.expiresAt > session.expiresAt) session.expiresAt = claims.expiresAt;
    await em.flush();
    return ok({ token, isFirstLogin: auth.isFirstLogin, expiresAt: claims.expiresAt });
  }

  /** Ends the session: every token issued for it is refused from now on, on every replica. */
  async logout(auth: AuthInfo): Promise<Result<null>> {
    const em = this.deps.orm.em.fork();
    await em.nativeUpdate(Session, { id: auth.sessionId, revokedAt: null }, { revokedAt: new Date() });
    await this.deps.notify(SESSION_REVOKED_CHANNEL, auth.sessionId);
    this.deps.log.info({ user: auth.userName, session: auth.sessionId }, 'logout');
    return ok(null);
  }

  /**
   * Forgets what no longer matters: sessions past expiry (their tokens are refused anyway) and
   * failed-login counts of names that have been quiet for a day, so guessing names cannot grow tables.
   */
  async sweep(now = new Date()): Promise<{ sessions: number; attempts: number }> {
    const em = this.deps.orm.em.fork();
    const dayAgo = new Date(now.getTime() - 86_400_000);
    const sessions = await em.nativeDelete(Session, { expiresAt: { $lt: now } });
    const attempts = await em.nativeDelete(LoginAttempt, {
      $and: [{ $or: [{ lastFailureAt: null }, { lastFailureAt: { $lt: dayAgo } }] }, { $or: [{ blockedUntil: null }, { blockedUntil: { $lt: now } }] }],
    });
    return { sessions, attempts };
  }

  /** Changes the caller's own password; other sessions of the user are ended. */
  async changePassword(auth: AuthInfo, input: { userName: string; oldPassword: string; newPassword: string }): Promise<Result<null>> {
    if (input.userName !== auth.userName) {
      return fail('FORBIDDEN', `You are logged in as "${auth.userName}" and can change only that account's password.`, 'UserName');
    }
    const violation = passwordPolicyViolation(input.newPassword);
    if (violation) return fail('INVALID_INPUT', `NewPassword ${violation}.`, 'NewPassword');
    if (input.newPassword === input.oldPassword) return fail('INVALID_INPUT', 'NewPassword must differ from the current password.', 'NewPassword');
    const em = this.deps.orm.em.fork();
    const user = await em.findOneOrFail(User, { id: auth.userId });
    if (!(await verifyPassword(user.passwordHash, input.oldPassword))) {
      return fail('INVALID_INPUT', 'Password (the current password) is wrong.', 'Password');
    }
    user.passwordHash = await hashPassword(input.newPassword);
    user.isFirstLogin = false;
    user.passwordChangedAt = new Date();
    const others = await em.find(Session, { user: user.id, revokedAt: null, id: { $ne: auth.sessionId } });
    for (const s of others) s.revokedAt = new Date();
    await em.flush();
    for (const s of others) await this.deps.notify(SESSION_REVOKED_CHANNEL, s.id);
    this.deps.log.info({ user: user.userName }, 'password changed');
    return ok(null);
  }
}
