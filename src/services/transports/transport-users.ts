import type { EntityManager } from '@mikro-orm/postgresql';
import { SourceHost, Task, VspherePlatform } from '../../../entities/index.js';

const MAX_NAMES = 10;

/** What still uses a transport server, as a phrase ("a source host ("web-1")"); undefined when nothing does. */
export async function usersOf(em: EntityManager, id: string): Promise<{ phrase: string; count: number } | undefined> {
  const byName = { fields: ['name'], orderBy: { name: 'asc' } } as const;
  const hosts = await em.find(SourceHost, { transport: id }, byName);
  const platforms = await em.find(VspherePlatform, { transport: id }, byName);
  const tasks = await em.find(Task, { $or: [{ srcTransport: id }, { targetTransport: id }] }, byName);
  const groups: [{ name: string }[], string][] = [[hosts, 'source host'], [platforms, 'vSphere platform'], [tasks, 'task']];
  const parts = groups.filter(([rows]) => rows.length).map(([rows, noun]) => `${rows.length === 1 ? `a ${noun}` : `${rows.length} ${noun}s`} (${names(rows)})`);
  const count = hosts.length + platforms.length + tasks.length;
  return count ? { phrase: parts.join(' and '), count } : undefined;
}

function names(rows: { name: string }[]): string {
  const shown = rows.slice(0, MAX_NAMES).map((r) => `"${r.name}"`).join(', ');
  return rows.length > MAX_NAMES ? `${shown}, …` : shown;
}
