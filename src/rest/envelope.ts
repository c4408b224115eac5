import type { Response } from 'express';
import type { ErrorCode, ServiceError } from '../services/errors.js';

export type CodeStyle = 'bool' | 'int';

/** The legacy envelope, keys in the documented order. */
export interface Envelope {
  Code: boolean | number;
  Msg: string;
  Data: unknown;
}

const httpStatus: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  LICENSE_INVALID: 422,
  LICENSE_UNAVAILABLE: 403,
  THROTTLED: 429,
  NOT_IMPLEMENTED: 501,
  UNAVAILABLE: 503,
  CLOUD_ERROR: 502,
  VSPHERE_ERROR: 502,
  TRANSPORT_ERROR: 502,
};

/** Integer-style actions answer 0 on success; a failure without a documented number answers -1. */
export const INT_FAILURE = -1;

export function successEnvelope(style: CodeStyle, msg: string, data: unknown): Envelope {
  return { Code: style === 'bool' ? true : 0, Msg: msg, Data: data ?? null };
}

export function sendFailure(res: Response, style: CodeStyle, error: ServiceError, status = httpStatus[error.code]): void {
  if (error.retryAfterSeconds) res.setHeader('Retry-After', String(error.retryAfterSeconds));
  const code = style === 'bool' ? false : (error.legacyCode ?? INT_FAILURE);
  const body: Envelope = { Code: code, Msg: error.message, Data: error.legacyData ?? (error.repeated ? { ID: '', Repeated: error.repeated } : null) };
  res.status(status).json(body);
}
