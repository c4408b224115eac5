import { randomUUID } from 'node:crypto';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from '../logger.js';

/** Errors Ferry raises on purpose are GraphQLErrors; anything else is an internal fault, logged and masked. */
export function maskUnexpectedErrors(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GraphQLError) return formatted;
    const ref = randomUUID();
    log.error({ err: original, ref, path: formatted.path }, 'GraphQL resolver failed');
    return {
      message: `Internal error (reference ${ref}); the failure was logged.`,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
