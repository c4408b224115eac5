import { describe, expect, it } from 'vitest';
import { passwordPolicyViolation } from '../src/services/auth/password-policy.js';

// The spec: 6–20 characters, at least two of letters, digits, special characters.
const cases: [password: string, accepted: boolean, why: string][] = [
  ['abc12', false, 'five characters'],
  ['abc123', true, 'six, letters and digits'],
  ['abcdefghij1234567890', true, 'twenty characters'],
  ['abcdefghij12345678901', false, 'twenty-one characters'],
  ['abcdefgh', false, 'letters only'],
  ['12345678', false, 'digits only'],
  ['!@#$%^&*', false, 'specials only'],
  ['abc!@#', true, 'letters and specials'],
  ['123!@#', true, 'digits and specials'],
  ['Ab1!Ab1!', true, 'all three kinds'],
  ['abc 123', false, 'a space'],
  ['пароль123', false, 'non-ASCII letters'],
  ['', false, 'empty'],
];

describe('password policy', () => {
  it.each(cases)('%s → accepted %s (%s)', (password, accepted) => {
    expect(passwordPolicyViolation(password) === undefined).toBe(accepted);
  });

  it('says which rule failed', () => {
    expect(passwordPolicyViolation('abc12')).toBe('must be 6 to 20 characters long');
    expect(passwordPolicyViolation('abcdefgh')).toBe('must contain at least two of: letters, digits, special characters');
    expect(passwordPolicyViolation('abc 123')).toContain('without spaces');
  });
});
