import { z } from 'zod';
import { action, type RestRoutes } from '../action.js';
import { text } from '../input.js';
import { ok } from '../../services/errors.js';

const tokenData = (t: { token: string; isFirstLogin: boolean }) => ({ Token: t.token, IsFirstLogin: t.isFirstLogin });

/** `/Login`, `/ReAuth`, `/Logout`: one action each, no `Action` field. */
export const sessionRoutes: RestRoutes = {
  '/Login': {
    '': action({
      code: 'bool',
      access: 'public',
      input: z.object({ UserName: text(64), Password: z.string().max(1024) }),
      run: (c, b) => c.services.auth.login(b.UserName, b.Password),
      success: 'Login Success.',
      data: tokenData,
    }),
  },
  '/ReAuth': {
    '': action({
      code: 'bool',
      access: 'firstLogin',
      run: (c) => c.services.auth.renew(c.auth!),
      success: 'Token Renewed.',
      data: tokenData,
    }),
  },
  '/Logout': {
    '': action({
      code: 'bool',
      access: 'firstLogin',
      run: async (c) => (c.auth ? c.services.auth.logout(c.auth) : ok(null)),
      success: 'Logout Success.',
    }),
  },
};
