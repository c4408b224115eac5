import { z } from 'zod';
import { action, type RestRoutes } from '../action.js';
import { text } from '../input.js';
import { rfc3339Local } from '../legacy-time.js';
import type { LicenseView } from '../../services/license/license-service.js';

const licenseData = (l: LicenseView) => ({ Credits: l.credits, ExpireTime: rfc3339Local(l.expiresAt), Id: l.id, Used: l.used });

export const settingsRoutes: RestRoutes = {
  '/MgntSetting': {
    ChangePassword: action({
      code: 'bool',
      access: 'firstLogin',
      input: z.object({ UserName: text(64), Password: z.string().max(1024), NewPassword: z.string().max(1024) }),
      run: (c, b) => c.services.auth.changePassword(c.auth!, { userName: b.UserName, oldPassword: b.Password, newPassword: b.NewPassword }),
      success: 'Change Password Success.',
    }),
    UpdateLicense: action({
      code: 'bool',
      input: z.object({ ActivationKey: text(8192) }),
      run: (c, b) => c.services.license.activate(b.ActivationKey),
      success: 'Update License Success.',
      data: licenseData,
    }),
    GetLicense: action({
      code: 'bool',
      run: (c) => c.services.license.current(),
      success: 'Get License Success.',
      data: licenseData,
    }),
    DeleteLicense: action({
      code: 'bool',
      run: (c) => c.services.license.remove(),
      success: 'Delete License Success.',
    }),
  },
};
