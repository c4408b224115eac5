import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261129185526 } from './Migration20261129185526.js';

/** Every committed migration, in order; `npm run migration:create` writes new ones beside this file. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261129185526', class: Migration20261129185526 },
];
