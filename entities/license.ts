import { Entity, Enum, Index, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

/** The activated license; at most one row is `active`. Its id is the key's `jti`. */
@Entity({ tableName: 'licenses' })
@Index({ name: 'licenses_one_active', expression: 'create unique index "licenses_one_active" on "licenses" ((true)) where "active"' })
export class License {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'integer' })
  credits!: number;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  issuedAt!: Date;

  @Property({ type: 'text', hidden: true })
  activationKey!: string;

  @Property({ type: 'boolean' })
  active: Opt<boolean> = true;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  activatedAt: Opt<Date> = new Date();
}

export enum LedgerEntryKind {
  Taken = 'taken',
  Returned = 'returned',
  Kept = 'kept',
}

/** Append-only record of credits: a task takes one, and gives it back or keeps it when deleted. */
@Entity({ tableName: 'license_ledger' })
@Unique({ properties: ['taskId', 'kind'] })
@Index({ properties: ['licenseId'] })
export class LicenseLedgerEntry {
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = randomUUID();

  /** the license the credit was taken from; no foreign key so history outlives the license */
  @Property({ type: 'uuid' })
  licenseId!: string;

  /** no foreign key either: tasks may be removed while their ledger lines stay */
  @Property({ type: 'uuid' })
  taskId!: string;

  @Enum({ items: () => LedgerEntryKind })
  kind!: LedgerEntryKind;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}
