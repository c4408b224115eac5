import { pino, type Logger } from 'pino';

/** Field paths that may carry secrets; pino replaces them before anything is written. */
const secretPaths = [
  'password', 'Password', 'NewPassword', 'newPassword', 'oldPassword',
  'CloudPass', 'Passwd', 'SecretKey', 'secret', 'token', 'Token', 'authorization', 'Authorization',
  '*.password', '*.Password', '*.NewPassword', '*.CloudPass', '*.Passwd', '*.SecretKey', '*.secret',
  '*.token', '*.Token', '*.authorization', '*.Authorization', 'req.headers.authorization',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: secretPaths, censor: '[secret]' } });
}

export type { Logger };
