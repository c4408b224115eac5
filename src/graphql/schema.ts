import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { resolvers } from '../../resolvers/index.js';
import { License } from '../../resolvers/license.js';
import { User } from '../../resolvers/auth.js';
import { guardRootFields } from './auth-guard.js';
import { createFerryPubSub, type FerryPubSub } from './topics.js';

/** Builds the executable schema; `validate: false` because services own every rule. Root fields need a user (auth-guard.ts). */
export async function buildFerrySchema(pubSub: FerryPubSub = createFerryPubSub()): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers,
    orphanedTypes: [User, License],
    pubSub,
    validate: false,
    emitSchemaFile: false,
  });
  return guardRootFields(schema);
}

/** The SDL committed in schema/schema.graphql: sorted so that diffs show real changes only. */
export async function printFerrySchema(): Promise<string> {
  return printSchema(lexicographicSortSchema(await buildFerrySchema()));
}
