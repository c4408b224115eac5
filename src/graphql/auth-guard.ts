import { defaultFieldResolver, GraphQLError, type GraphQLField, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { GraphQLContext } from './context.js';

/** Set on a root field with `@Extensions({ access })`; fields without it need a full user. */
export type FieldAccess = 'public' | 'firstLogin';

/**
 * Default-deny for every root field: a valid token is required unless the field says otherwise,
 * and a user who has not changed the initial password may only change it, renew or log out.
 */
function checkAccess(field: GraphQLField<unknown, GraphQLContext>, context: GraphQLContext): void {
  const access = field.extensions?.access as FieldAccess | undefined;
  if (access === 'public') return;
  if (!context.auth) {
    throw new GraphQLError(context.authError?.message ?? 'Authorization token is missing; please log in.', {
      extensions: { code: 'UNAUTHENTICATED' },
    });
  }
  if (context.auth.isFirstLogin && access !== 'firstLogin') {
    throw new GraphQLError('Change the initial password first (mutation changePassword).', { extensions: { code: 'FORBIDDEN' } });
  }
}

/**
 * Puts the access check on every root field of the schema (in place), and on nothing else.
 * Not a type-graphql global middleware: that wraps every field of every object in async
 * dispatching (several promises per field), which for subscriptions was paid per field of every
 * event of every subscriber, to let all but the root field through. A subscription is checked
 * when it starts (`subscribe`, once per subscriber) and, like queries, in its root `resolve`
 * (synchronous: a few property reads per result).
 */
export function guardRootFields(schema: GraphQLSchema): GraphQLSchema {
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(root?.getFields() ?? {}) as GraphQLField<unknown, GraphQLContext>[]) {
      const guard = (inner: GraphQLFieldResolver<unknown, GraphQLContext>): GraphQLFieldResolver<unknown, GraphQLContext> =>
        (source, args, context, info) => {
          checkAccess(field, context);
          return inner(source, args, context, info);
        };
      field.resolve = guard(field.resolve ?? defaultFieldResolver);
      if (field.subscribe) field.subscribe = guard(field.subscribe);
    }
  }
  return schema;
}
