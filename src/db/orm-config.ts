import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { allEntities } from '../../entities/index.js';
import { migrationsList } from './migrations/index.js';

/** MikroORM options for a PostgreSQL URL; migrations are listed, never scanned from disk. */
export function ormConfig(clientUrl: string, overrides: Partial<Options> = {}): Options {
  return defineConfig({
    clientUrl,
    entities: allEntities,
    extensions: [Migrator],
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    migrations: {
      migrationsList,
      path: 'src/db/migrations',
      pathTs: 'src/db/migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
      fileName: (timestamp, name) => `Migration${timestamp}${name ? '_' + name : ''}`,
    },
    pool: { min: 0, max: 10 },
    forceUtcTimezone: true,
    debug: false,
    ...overrides,
  });
}
