const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses "90", "90s", "30m", "2h" or "1d" into seconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * units[match[2] || 's'];
}
