import type { MikroORM } from '@mikro-orm/postgresql';

/**
 * Records the SQL statements the ORM sends while `run` runs, by wrapping the connection's
 * `execute` (through which MikroORM 6 sends every query: finds, counts, populates, flushes).
 */
export async function queriesDuring(orm: MikroORM, run: () => Promise<unknown>): Promise<string[]> {
  const connection = orm.em.getConnection();
  const original = connection.execute;
  const seen: string[] = [];
  connection.execute = function (this: typeof connection, ...args: Parameters<typeof original>) {
    seen.push(String(args[0]));
    return original.apply(this, args);
  } as typeof original;
  try {
    await run();
  } finally {
    connection.execute = original;
  }
  return seen;
}
