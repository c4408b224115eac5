import { Field, ID, Int, InterfaceType, ObjectType, registerEnumType } from 'type-graphql';
import type { ErrorCode, Result, ServiceError } from '../src/services/errors.js';

export enum UserErrorCode {
  INVALID_INPUT = 'INVALID_INPUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  THROTTLED = 'THROTTLED',
  LICENSE_INVALID = 'LICENSE_INVALID',
  LICENSE_UNAVAILABLE = 'LICENSE_UNAVAILABLE',
  NOT_IMPLEMENTED = 'NOT_IMPLEMENTED',
  UNAVAILABLE = 'UNAVAILABLE',
  CLOUD_ERROR = 'CLOUD_ERROR',
  TRANSPORT_ERROR = 'TRANSPORT_ERROR',
  VSPHERE_ERROR = 'VSPHERE_ERROR',
}
registerEnumType(UserErrorCode, { name: 'UserErrorCode', description: 'Why a mutation was refused.' });

// Keeps the enum and the services' error codes in step at compile time.
export const userErrorCodes: Record<ErrorCode, UserErrorCode> = UserErrorCode;

@InterfaceType({ description: 'An object with a global id, fetchable with `node(id)`.' })
export abstract class Node {
  @Field(() => ID)
  id!: string;
}

@ObjectType({ description: 'A refusal of a mutation: which input field, why, and a stable code.' })
export class UserError {
  @Field(() => String, { nullable: true, description: 'The input field at fault, when one is.' })
  field?: string;

  @Field(() => String)
  message!: string;

  @Field(() => UserErrorCode)
  code!: UserErrorCode;

  @Field(() => Int, { nullable: true, description: 'Seconds to wait before retrying (THROTTLED).' })
  retryAfterSeconds?: number;
}

@ObjectType()
export abstract class Payload {
  @Field(() => [UserError])
  userErrors: UserError[] = [];
}

/**
 * Services name fields as the legacy API spells them (`NewPassword`); GraphQL inputs spell them
 * in camel case (`newPassword`). A mutation whose input names differ passes its own map.
 */
export function toUserError(e: ServiceError, fieldNames: Record<string, string> = {}): UserError {
  const field = e.field === undefined ? undefined : fieldNames[e.field] ?? e.field.charAt(0).toLowerCase() + e.field.slice(1);
  return { ...e, field, code: e.code as UserErrorCode };
}

/** Builds a mutation payload from a service result: the mapped value, or the refusal. */
export function payload<T, P extends Payload>(result: Result<T>, map: (value: T) => Omit<P, 'userErrors'>, fieldNames?: Record<string, string>): P {
  if (!result.ok) return { userErrors: [toUserError(result.error, fieldNames)] } as unknown as P;
  return { ...map(result.value), userErrors: [] } as unknown as P;
}
