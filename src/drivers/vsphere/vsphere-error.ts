/** Why a vSphere call failed, in words a user can act on. */
export type VSphereErrorKind =
  | 'invalid-login' // InvalidLogin: wrong user name or password
  | 'not-authenticated' // NotAuthenticated: the session ended (expired, or logged out elsewhere)
  | 'not-found' // ManagedObjectNotFound: the object is gone
  | 'tls-untrusted' // a certificate no authority vouches for and no thumbprint was recorded for
  | 'tls-changed' // the certificate is not the one recorded at AddVSPlatform
  | 'timeout'
  | 'unreachable' // connection refused, DNS, TLS handshake
  | 'fault' // any other fault vCenter or ESXi answered
  | 'bad-response'; // an answer that is not the SOAP we expect

export class VSphereError extends Error {
  constructor(
    readonly kind: VSphereErrorKind,
    /** the platform's address */
    readonly platform: string,
    /** what was being done, e.g. "log in" or "read the inventory (RetrievePropertiesEx)" */
    readonly call: string,
    message: string,
    /** the vim25 fault type when vSphere answered one (`InvalidLogin`) */
    readonly fault?: string,
  ) {
    super(`vSphere ${platform}: ${call}: ${message}`);
    this.name = 'VSphereError';
  }
}
