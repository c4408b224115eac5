import { Arg, Ctx, Extensions, Field, ID, InputType, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { DateTimeResolver } from 'graphql-scalars';
import type { GraphQLContext } from '../src/graphql/context.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import type { AuthInfo } from '../src/services/index.js';
import { Node, Payload, payload } from './common.js';

@ObjectType({ implements: Node })
export class User extends Node {
  @Field(() => String)
  userName!: string;

  @Field(() => Boolean, { description: 'True until the initial password is changed.' })
  isFirstLogin!: boolean;
}

// class instances, so that `node(id)` can tell which type of the Node interface it holds
export const userNode = (a: Pick<AuthInfo, 'userId' | 'userName' | 'isFirstLogin'>): User =>
  Object.assign(new User(), { id: toGlobalId('User', a.userId), userName: a.userName, isFirstLogin: a.isFirstLogin });

@InputType()
class LoginInput {
  @Field(() => String)
  userName!: string;

  @Field(() => String)
  password!: string;
}

@InputType()
class ChangePasswordInput {
  @Field(() => String)
  userName!: string;

  @Field(() => String, { description: 'The current password.' })
  password!: string;

  @Field(() => String, { description: '6–20 characters, at least two of letters, digits, special characters.' })
  newPassword!: string;
}

@ObjectType()
class TokenPayload extends Payload {
  @Field(() => String, { nullable: true, description: 'Send as the `Authorization` header (or `connectionParams.Authorization`).' })
  token?: string;

  @Field(() => DateTimeResolver, { nullable: true })
  expiresAt?: Date;

  @Field(() => Boolean, { nullable: true })
  isFirstLogin?: boolean;
}

@ObjectType()
class LogoutPayload extends Payload {
  @Field(() => ID, { nullable: true, description: 'The session that ended.' })
  sessionId?: string;
}

@ObjectType()
class ChangePasswordPayload extends Payload {
  @Field(() => User, { nullable: true })
  user?: User;
}

@Resolver()
export class AuthResolver {
  @Query(() => User, { description: 'The logged-in user.' })
  @Extensions({ access: 'firstLogin' })
  viewer(@Ctx() ctx: GraphQLContext): User {
    return userNode(ctx.auth!);
  }

  @Mutation(() => TokenPayload)
  @Extensions({ access: 'public' })
  async login(@Arg('input', () => LoginInput) input: LoginInput, @Ctx() ctx: GraphQLContext): Promise<TokenPayload> {
    return payload(await ctx.services.auth.login(input.userName, input.password), (t) => t);
  }

  @Mutation(() => TokenPayload, { description: 'A fresh token for the current session.' })
  @Extensions({ access: 'firstLogin' })
  async renewToken(@Ctx() ctx: GraphQLContext): Promise<TokenPayload> {
    return payload(await ctx.services.auth.renew(ctx.auth!), (t) => t);
  }

  @Mutation(() => LogoutPayload, { description: 'Ends the session: its tokens are refused from now on.' })
  @Extensions({ access: 'firstLogin' })
  async logout(@Ctx() ctx: GraphQLContext): Promise<LogoutPayload> {
    return payload(await ctx.services.auth.logout(ctx.auth!), () => ({ sessionId: toGlobalId('Session', ctx.auth!.sessionId) }));
  }

  @Mutation(() => ChangePasswordPayload)
  @Extensions({ access: 'firstLogin' })
  async changePassword(@Arg('input', () => ChangePasswordInput) input: ChangePasswordInput, @Ctx() ctx: GraphQLContext): Promise<ChangePasswordPayload> {
    const result = await ctx.services.auth.changePassword(ctx.auth!, { userName: input.userName, oldPassword: input.password, newPassword: input.newPassword });
    return payload(result, () => ({ user: userNode({ ...ctx.auth!, isFirstLogin: false }) }));
  }
}
