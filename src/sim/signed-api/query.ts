import { invalid } from './api-error.js';

/** The decoded name/value pairs of a raw query string; `+` is a plus sign, not a space. */
export function parseQuery(raw: string): [string, string][] {
  if (!raw) return [];
  return raw.split('&').filter(Boolean).map((part) => {
    const eq = part.indexOf('=');
    const [name, value] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    try {
      return [decodeURIComponent(name), decodeURIComponent(value)];
    } catch {
      throw invalid(`the query string is not percent-encoded properly near "${part.slice(0, 40)}"`);
    }
  });
}

/** Read access to query parameters, each allowed once. */
export class Query {
  constructor(readonly pairs: [string, string][]) {}

  get(name: string): string | undefined {
    const values = this.pairs.filter(([k]) => k === name).map(([, v]) => v);
    if (values.length > 1) throw invalid(`query parameter ${name} is given ${values.length} times`);
    return values[0] === '' ? undefined : values[0];
  }

  require(name: string): string {
    const value = this.get(name);
    if (value === undefined) throw invalid(`query parameter ${name} is required`);
    return value;
  }

  int(name: string, min: number, max: number, fallback: number): number {
    const value = this.get(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw invalid(`query parameter ${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  }
}
