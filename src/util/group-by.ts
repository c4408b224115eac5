/** Rows grouped by their owner's id, every asked id present (empty when it has none): what batch loaders return. */
export function groupBy<T>(ids: readonly string[], rows: T[], owner: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>(ids.map((id) => [id, []]));
  for (const row of rows) groups.get(owner(row))?.push(row);
  return groups;
}
