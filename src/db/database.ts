import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { FerryConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { ormConfig } from './orm-config.js';

export interface Database {
  orm: MikroORM;
  url: string;
  /** present when Ferry runs its own PostgreSQL */
  embedded?: EmbeddedPostgres;
  /** true when every committed migration has been applied */
  isMigrated(): Promise<boolean>;
  close(): Promise<void>;
}

/** Serialises migrations when several Ferry processes start on one database at once. */
async function migrateUnderLock(orm: MikroORM, url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock(hashtext('ferry:migrations'))`);
    await orm.getMigrator().up();
  } finally {
    await client.query(`select pg_advisory_unlock(hashtext('ferry:migrations'))`).catch(() => undefined);
    await client.end();
  }
}

/** Connects to DATABASE_URL, or starts embedded PostgreSQL in the data directory, then migrates. */
export async function openDatabase(config: FerryConfig, log: Logger): Promise<Database> {
  const dbLog = log.child({ component: 'postgres' });
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dir: config.dataDir, port: config.embeddedPgPort, log: (line) => dbLog.debug(line) });
  const url = config.databaseUrl ?? embedded!.url;
  try {
    const orm = await MikroORM.init(
      ormConfig(url, {
        logger: (message) => dbLog.debug(message),
        // knex writes pool warnings to console.log unless given its own log
        driverOptions: {
          log: {
            warn: (m: unknown) => dbLog.warn(String(m)),
            error: (m: unknown) => dbLog.error(String(m)),
            deprecate: (m: unknown) => dbLog.debug(String(m)),
            debug: (m: unknown) => dbLog.debug(String(m)),
          },
        },
      }),
    );
    await migrateUnderLock(orm, url);
    return {
      orm,
      url,
      embedded,
      async isMigrated() {
        return (await orm.getMigrator().getPendingMigrations()).length === 0;
      },
      async close() {
        await orm.close(true);
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}
