import { GraphQLError } from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import type { GraphQLContext } from './context.js';

/** Set on a root field with `@Extensions({ access })`; fields without it need a full user. */
export type FieldAccess = 'public' | 'firstLogin';

/**
 * Default-deny for every root field: a valid token is required unless the field says otherwise,
 * and a user who has not changed the initial password may only change it, renew or log out.
 */
export const AuthGuard: MiddlewareFn<GraphQLContext> = async ({ info, context }, next) => {
  const root = info.schema.getRootType(info.operation.operation);
  if (info.parentType !== root) return next();
  const access = info.parentType.getFields()[info.fieldName]?.extensions?.access as FieldAccess | undefined;
  if (access === 'public') return next();
  if (!context.auth) {
    throw new GraphQLError(context.authError?.message ?? 'Authorization token is missing; please log in.', {
      extensions: { code: 'UNAUTHENTICATED' },
    });
  }
  if (context.auth.isFirstLogin && access !== 'firstLogin') {
    throw new GraphQLError('Change the initial password first (mutation changePassword).', { extensions: { code: 'FORBIDDEN' } });
  }
  return next();
};
