/** An answer in the contracts' error format: HTTP status + `{"code", "message", "requestId"}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new ApiError(400, 'InvalidParameter', message);
export const notFound = (message: string) => new ApiError(404, 'NotFound', message);
export const conflict = (message: string) => new ApiError(409, 'Conflict', message);
export const accessDenied = (message: string) => new ApiError(403, 'AccessDenied', message);
export const quotaExceeded = (message: string) => new ApiError(403, 'QuotaExceeded', message);
export const unauthorized = (code: 'InvalidSignature' | 'InvalidAccessKey' | 'SignatureExpired' | 'NonceReused', message: string) => new ApiError(401, code, message);
