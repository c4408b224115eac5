import { STATUS_CODES } from 'node:http';

/** How a service spells its errors: Keystone and keystonemiddleware, Nova and Cinder faults, Neutron. */
export type ErrorStyle = 'keystone' | 'fault' | 'neutron';

/** A refusal, answered in the format of the service that refused. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Neutron's error type (`IpAddressAlreadyAllocated`); defaults to the HTTP one */
    readonly type?: string,
    /** set when the answer does not come from the service itself (keystonemiddleware's 401) */
    readonly style?: ErrorStyle,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, type?: string) => new ApiError(400, message, type);
export const notFound = (message: string, type?: string) => new ApiError(404, message, type);
export const conflict = (message: string, type?: string) => new ApiError(409, message, type);
export const forbidden = (message: string, type?: string) => new ApiError(403, message, type);

/** What keystonemiddleware answers for a missing, unknown or expired token, in front of every service. */
export const unauthenticated = () => new ApiError(401, 'The request you have made requires authentication.', undefined, 'keystone');

// nova/api/openstack/wsgi.py Fault._fault_names (Cinder has the same table)
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

// webob exception class names, which Neutron uses as the type of errors it does not name itself
const NEUTRON_HTTP_TYPES: Record<number, string> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  500: 'HTTPInternalServerError',
};

/** The JSON body of an error, as the given service writes it. */
export function errorBody(err: ApiError, serviceStyle: ErrorStyle): unknown {
  const style = err.style ?? serviceStyle;
  const { status, message } = err;
  switch (style) {
    case 'keystone':
      return { error: { code: status, title: STATUS_CODES[status] ?? 'Error', message } };
    case 'fault':
      return { [FAULT_NAMES[status] ?? 'computeFault']: { code: status, message } };
    case 'neutron':
      return { NeutronError: { type: err.type ?? NEUTRON_HTTP_TYPES[status] ?? 'HTTPError', message, detail: '' } };
  }
}
