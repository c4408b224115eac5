import type { z } from 'zod';
import type { AuthInfo, Services } from '../services/index.js';
import type { Result } from '../services/errors.js';
import type { CodeStyle } from './envelope.js';

export interface RestCall {
  services: Services;
  auth?: AuthInfo;
  /** the raw token, for actions that act on the session itself */
  token?: string;
}

/**
 * Who may call an action: anyone (`public`), a logged-in user who has not yet changed the
 * initial password (`firstLogin`), or only a user past that point (`user`, the default).
 */
export type Access = 'public' | 'firstLogin' | 'user';

/** One legacy action: how to read its body, which service call answers it, and the documented reply. */
export interface RestAction<I = any, V = any> {
  code: CodeStyle;
  access?: Access;
  input?: z.ZodType<I>;
  run: (call: RestCall, input: I) => Promise<Result<V>>;
  /** `Msg` on success */
  success: string;
  /** `Msg` on success when it depends on the value */
  message?: (value: V) => string;
  /** an integer-style action's documented non-zero `Code` for a successful answer (CheckTargetHostInfoExisting: 1 when a name is taken) */
  successCode?: (value: V) => number;
  /** the documented `Data`; defaults to the service's value */
  data?: (value: V) => unknown;
  /** actions documented with a bare body instead of the envelope */
  bare?: (value: V) => object;
}

/** URL → Action → definition; single-action URLs (`/Login`) use the key ''. */
export type RestRoutes = Record<string, Record<string, RestAction>>;

export const action = <I, V>(def: RestAction<I, V>): RestAction<I, V> => def;
