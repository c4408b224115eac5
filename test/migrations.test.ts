import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../src/db/orm-config.js';
import { createTestDatabase } from './support/database.js';

describe('committed migrations', () => {
  let db: { url: string; drop(): Promise<void> };
  let orm: MikroORM;
  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await MikroORM.init(ormConfig(db.url));
  });
  afterAll(async () => {
    await orm.close(true);
    await db.drop();
  });

  it('build exactly the schema the entities describe (a changed entity needs a migration)', async () => {
    await orm.getMigrator().up();
    expect(await orm.getMigrator().getPendingMigrations()).toEqual([]);
    const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, safe: false });
    expect(diff.trim()).toBe('');
  });

  it('let only one license be active at a time', async () => {
    const sql = (q: string) => orm.em.getConnection().execute(q);
    await sql(`insert into licenses (id, credits, expires_at, issued_at, activation_key, active) values (gen_random_uuid(), 1, now(), now(), 'k', true)`);
    await expect(sql(`insert into licenses (id, credits, expires_at, issued_at, activation_key, active) values (gen_random_uuid(), 1, now(), now(), 'k', true)`)).rejects.toThrow(/licenses_one_active/);
    await sql(`insert into licenses (id, credits, expires_at, issued_at, activation_key, active) values (gen_random_uuid(), 1, now(), now(), 'k', false)`);
  });
});
