import { Index, Entity, ManyToOne, PrimaryKey, Property, type Ref, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base.js';

@Entity({ tableName: 'users' })
export class User extends BaseEntity {
  @Property({ type: 'string', length: 64, unique: true })
  userName!: string;

  /** argon2id PHC string */
  @Property({ type: 'string', length: 255, hidden: true })
  passwordHash!: string;

  @Property({ type: 'boolean' })
  isFirstLogin: Opt<boolean> = true;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  passwordChangedAt?: Date;
}

/** One login; every token renewed from it carries its id, and logout revokes them all. */
@Entity({ tableName: 'sessions' })
export class Session extends BaseEntity {
  @Index()
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  revokedAt?: Date | null;
}

/** Failed logins per user name, known or not, so that guessing is slowed alike. */
@Entity({ tableName: 'login_attempts' })
export class LoginAttempt {
  @PrimaryKey({ type: 'string', length: 64 })
  userName!: string;

  @Property({ type: 'integer' })
  failures: Opt<number> = 0;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  lastFailureAt?: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  blockedUntil?: Date | null;
}

/** Keys Ferry makes for itself at first start (token signing key pair, master-key check value). */
@Entity({ tableName: 'server_keys' })
export class ServerKey {
  @PrimaryKey({ type: 'string', length: 64 })
  name!: string;

  @Property({ type: 'json', hidden: true })
  value!: Record<string, unknown>;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}
