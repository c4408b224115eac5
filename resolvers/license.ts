import { Arg, Args, Ctx, Field, FieldResolver, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription, registerEnumType } from 'type-graphql';
import { DateTimeResolver } from 'graphql-scalars';
import type { GraphQLContext } from '../src/graphql/context.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import { Topic } from '../src/graphql/topics.js';
import type { LicenseView } from '../src/services/license/license-service.js';
import { Node, Payload, payload } from './common.js';
import { Connection, ConnectionArgs, pageRequest, toConnection } from './connection.js';

/** GraphQL names for the ledger's kinds; the values are the stored ones. */
export enum LedgerEntryKind {
  TAKEN = 'taken',
  RETURNED = 'returned',
  KEPT = 'kept',
}
registerEnumType(LedgerEntryKind, { name: 'LedgerEntryKind', description: 'A credit taken by a task, given back when it was deleted unfinished, or kept when its server was migrated.' });

@ObjectType({ description: 'One line of the license ledger.' })
export class LedgerEntry {
  @Field(() => String, { description: 'The task the credit belongs to (its plain id).' })
  taskId!: string;

  @Field(() => LedgerEntryKind)
  kind!: LedgerEntryKind;

  @Field(() => DateTimeResolver)
  createdAt!: Date;
}

const LedgerEntryConnection = Connection('LedgerEntry', LedgerEntry);
type LedgerEntryConnection = InstanceType<typeof LedgerEntryConnection>;

@ObjectType({ implements: Node, description: 'The activated license.' })
export class License extends Node {
  @Field(() => String, { description: 'The license id (the activation key\'s `jti`), as REST shows it.' })
  licenseId!: string;

  @Field(() => Int, { description: 'Tasks the license allows in all.' })
  credits!: number;

  @Field(() => Int, { description: 'Credits taken by tasks and not given back.' })
  used!: number;

  @Field(() => Int)
  remaining!: number;

  @Field(() => DateTimeResolver)
  expiresAt!: Date;

  @Field(() => Boolean)
  expired!: boolean;

  @Field(() => DateTimeResolver)
  issuedAt!: Date;

  @Field(() => DateTimeResolver)
  activatedAt!: Date;
}

export const licenseNode = (l: LicenseView): License =>
  Object.assign(new License(), {
    id: toGlobalId('License', l.id),
    licenseId: l.id,
    credits: l.credits,
    used: l.used,
    remaining: Math.max(0, l.credits - l.used),
    expiresAt: l.expiresAt,
    expired: l.expiresAt <= new Date(),
    issuedAt: l.issuedAt,
    activatedAt: l.activatedAt,
  });

@InputType()
class LicenseActivateInput {
  @Field(() => String, { description: 'The activation key: a JWT signed by the vendor with Ed25519.' })
  activationKey!: string;
}

@ObjectType()
class LicenseActivatePayload extends Payload {
  @Field(() => License, { nullable: true })
  license?: License;
}

@ObjectType()
class LicenseDeletePayload extends Payload {
  @Field(() => Boolean)
  deleted!: boolean;
}

@Resolver(() => License)
export class LicenseResolver {
  @FieldResolver(() => LedgerEntryConnection, { description: 'Credits taken and settled under this license, oldest first.' })
  async ledger(@Root() license: License, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: GraphQLContext): Promise<LedgerEntryConnection> {
    const page = await ctx.services.license.ledger(license.licenseId, pageRequest(args));
    return toConnection(page, ({ taskId, kind, createdAt }) => ({ taskId, kind: kind as string as LedgerEntryKind, createdAt }));
  }

  @Query(() => License, { nullable: true, description: 'The activated license, or null when there is none.' })
  async license(@Ctx() ctx: GraphQLContext): Promise<License | null> {
    const result = await ctx.services.license.current();
    return result.ok ? licenseNode(result.value) : null;
  }

  @Mutation(() => LicenseActivatePayload)
  async licenseActivate(@Arg('input', () => LicenseActivateInput) input: LicenseActivateInput, @Ctx() ctx: GraphQLContext): Promise<LicenseActivatePayload> {
    return payload(await ctx.services.license.activate(input.activationKey), (l) => ({ license: licenseNode(l) }));
  }

  @Mutation(() => LicenseDeletePayload)
  async licenseDelete(@Ctx() ctx: GraphQLContext): Promise<LicenseDeletePayload> {
    const result = await ctx.services.license.remove();
    return result.ok ? { deleted: true, userErrors: [] } : { ...payload(result, () => ({})), deleted: false };
  }

  @Subscription(() => License, { nullable: true, topics: Topic.LicenseChanged, description: 'The license after each activation or deletion (null once deleted).' })
  async licenseChanged(@Root() _licenseId: string, @Ctx() ctx: GraphQLContext): Promise<License | null> {
    return this.license(ctx);
  }
}
