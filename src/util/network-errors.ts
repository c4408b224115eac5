const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/** A peer that could not be reached at all (refused, reset, no route, no name), as opposed to one that answered. */
export const isNetworkError = (err: unknown): boolean => NETWORK_CODES.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
