/** The legacy `Authorization` header carries the bare token; `Bearer <token>` is accepted too. */
export function tokenFrom(header: string | undefined): string | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  return value.replace(/^Bearer\s+/i, '') || undefined;
}
