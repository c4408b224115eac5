import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ServerKey } from '../../../entities/index.js';

const NAME = 'controller-id';

/**
 * The id this installation pairs transports with: made on first use and kept in the database,
 * so every replica sharing it (and every restart) is the same controller to a transport.
 */
export async function controllerId(em: EntityManager): Promise<string> {
  await em.getConnection().execute(`insert into server_keys (name, value) values (?, ?) on conflict (name) do nothing`, [NAME, JSON.stringify({ id: `ferry-${randomUUID()}` })]);
  const stored = await em.findOneOrFail(ServerKey, { name: NAME });
  return String(stored.value.id);
}
