import { GraphQLError } from 'graphql';
import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import type { Page, PageRequest } from '../src/services/paging.js';
import type { Result } from '../src/services/errors.js';

export const MAX_PAGE_SIZE = 100;

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean)
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor?: string;

  @Field(() => String, { nullable: true })
  endCursor?: string;
}

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { defaultValue: 20, description: `At most ${MAX_PAGE_SIZE}.` })
  first: number = 20;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' })
  after?: string;
}

export interface ConnectionShape<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** A Relay connection type named `${name}Connection`, with its `${name}Edge`. */
export function Connection<T extends object>(name: string, nodeType: ClassType<T>): ClassType<ConnectionShape<T>> {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true })
  class ConnectionType {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int)
    totalCount!: number;
  }
  return ConnectionType;
}

/** Paging arguments as a service request; out-of-range sizes are refused, naming the argument. */
export function pageRequest(args: ConnectionArgs): PageRequest {
  if (!Number.isInteger(args.first) || args.first < 0 || args.first > MAX_PAGE_SIZE) {
    throw new GraphQLError(`first must be between 0 and ${MAX_PAGE_SIZE}.`, { extensions: { code: 'BAD_USER_INPUT', argument: 'first' } });
  }
  return { first: args.first, after: args.after ?? undefined };
}

/** A service page as a connection; a refused page (a foreign cursor) becomes a BAD_USER_INPUT error. */
export function toConnection<S, T>(result: Result<Page<S>>, map: (node: S) => T): ConnectionShape<T> {
  if (!result.ok) {
    throw new GraphQLError(result.error.message, { extensions: { code: 'BAD_USER_INPUT', argument: result.error.field } });
  }
  const { items, hasNextPage, hasPreviousPage, totalCount } = result.value;
  return {
    edges: items.map((item) => ({ cursor: item.cursor, node: map(item.node) })),
    pageInfo: { hasNextPage, hasPreviousPage, startCursor: items[0]?.cursor, endCursor: items.at(-1)?.cursor },
    totalCount,
  };
}
