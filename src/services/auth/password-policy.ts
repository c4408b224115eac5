/**
 * The spec's rule: 6–20 characters, at least two of letters, digits and special characters.
 * Decision: characters are printable ASCII without spaces, so that every legacy client can type them.
 */
export function passwordPolicyViolation(password: string): string | undefined {
  if (password.length < 6 || password.length > 20) return 'must be 6 to 20 characters long';
  if (!/^[\x21-\x7e]+$/.test(password)) return 'may contain only letters, digits and printable ASCII special characters, without spaces';
  const kinds = [/[A-Za-z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((kind) => kind.test(password)).length;
  if (kinds < 2) return 'must contain at least two of: letters, digits, special characters';
  return undefined;
}
