import type { VspherePlatform } from '../../../entities/index.js';
import type { VimOptions } from '../../drivers/vsphere/vim-session.js';
import type { Sealer } from '../secrets/master-key.js';

/** The context its password is sealed under: a sealed value copied to another platform does not open. */
export const sealContext = (platformId: string): string => `vsphere:${platformId}`;

/** How to log in to a stored platform: its address, its user, its password unsealed, its pinned certificate. */
export function platformSessionOptions(sealer: Sealer, platform: VspherePlatform): VimOptions {
  return { address: platform.ip, userName: platform.userName, password: sealer.open(platform.passwdSealed, sealContext(platform.id)), pinnedSha256: platform.certThumbprint ?? undefined };
}
