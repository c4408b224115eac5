/** What a service refuses with; adapters map `code` to HTTP statuses and GraphQL error codes. */
export type ErrorCode =
  | 'INVALID_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'THROTTLED'
  | 'LICENSE_INVALID'
  | 'LICENSE_UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'UNAVAILABLE'
  /** a cloud refused or failed a call; the message names the cloud and the call */
  | 'CLOUD_ERROR'
  /** a transport server could not be reached, or refused or failed a call; the message names its address */
  | 'TRANSPORT_ERROR'
  /** a vCenter or ESXi refused or failed a call; the message names the platform and the call */
  | 'VSPHERE_ERROR';

export interface ServiceError {
  code: ErrorCode;
  message: string;
  /** the input field at fault, named as the caller sent it */
  field?: string;
  /** seconds before a retry can succeed (THROTTLED) */
  retryAfterSeconds?: number;
  /** the legacy API's own number for this refusal (1: server name taken, 2: volume name taken) */
  legacyCode?: number;
  /** the names already taken in the cloud */
  repeated?: string[];
  /** what the legacy API puts in `Data` with this refusal */
  legacyData?: unknown;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ServiceError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export function fail<T = never>(code: ErrorCode, message: string, field?: string, extra: Partial<ServiceError> = {}): Result<T> {
  return { ok: false, error: { code, message, ...(field ? { field } : {}), ...extra } };
}
