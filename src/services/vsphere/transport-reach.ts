import type { TransportServer } from '../../../entities/index.js';
import { sdkUrl } from '../../drivers/vsphere/vim-session.js';
import { fail, ok, type Result } from '../errors.js';
import { fromTransport } from '../transports/transport-errors.js';
import type { TransportService } from '../transports/transport-service.js';

/** The transport reaches the platform's address and, over TLS, sees the certificate Ferry pinned. */
export async function transportReaches(transports: TransportService, transport: TransportServer, address: string, pinned: string | undefined): Promise<Result<null>> {
  const client = await transports.clientOf(transport.id);
  if (!client.ok) return client;
  const url = sdkUrl(address);
  const probe = await fromTransport(transport.mgntAddr, () => client.value.probeEndpoint(url.href), 'TransAddr');
  if (!probe.ok) return fail('VSPHERE_ERROR', `Transport server "${transport.name}" cannot reach ${url.host}: ${probe.error.message}`, 'TransAddr');
  if (pinned && probe.value.sha256 && probe.value.sha256 !== pinned) {
    return fail('VSPHERE_ERROR', `Transport server "${transport.name}" is shown another certificate at ${url.host} (SHA-256 ${probe.value.sha256}, recorded ${pinned}): something between them intercepts TLS.`, 'TransAddr');
  }
  return ok(null);
}
