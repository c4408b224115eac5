/** Relay global ids: opaque base64url of `Type:uuid`. */
export function toGlobalId(type: string, id: string): string {
  return Buffer.from(`${type}:${id}`, 'utf8').toString('base64url');
}

export function fromGlobalId(globalId: string): { type: string; id: string } | undefined {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1 || colon === decoded.length - 1) return undefined;
  return { type: decoded.slice(0, colon), id: decoded.slice(colon + 1) };
}
