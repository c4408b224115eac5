import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261129191406_foundation } from './Migration20261129191406_foundation.js';
import { Migration20261129224702_transports } from './Migration20261129224702_transports.js';
import { Migration20261129232333_hosts } from './Migration20261129232333_hosts.js';
import { Migration20261130002325_tasks_engine } from './Migration20261130002325_tasks_engine.js';
import { Migration20261130064500_vm_cbt } from './Migration20261130064500_vm_cbt.js';

/** Every committed migration, in order; `npm run migration:create` writes new ones beside this file. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261129191406_foundation', class: Migration20261129191406_foundation },
  { name: 'Migration20261129224702_transports', class: Migration20261129224702_transports },
  { name: 'Migration20261129232333_hosts', class: Migration20261129232333_hosts },
  { name: 'Migration20261130002325_tasks_engine', class: Migration20261130002325_tasks_engine },
  { name: 'Migration20261130064500_vm_cbt', class: Migration20261130064500_vm_cbt },
];
