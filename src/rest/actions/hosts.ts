import { z } from 'zod';
import { action, type RestAction, type RestRoutes } from '../action.js';
import { text } from '../input.js';
import { detail, listed } from './host-views.js';
import { listedPlatform, vsphereActions } from './vsphere.js';

/** Bounded strings whose rules (and messages) are the service's. */
const field = z.string().max(1024);
const optional = field.optional();
const hostId = z.object({ Id: text(64) });

const hostActions: Record<string, RestAction> = {
  AddPackerHost: action({
    code: 'bool',
    input: z.object({ Name: field, TransId: field, MgntAddr: field }),
    run: (c, b) => c.services.hosts.add({ name: b.Name, transId: b.TransId, mgntAddr: b.MgntAddr }),
    success: 'Add Packer Host Success.',
    data: (h) => ({ ID: h.id }),
  }),
  DeletePackerHost: action({
    code: 'bool',
    input: hostId,
    run: (c, b) => c.services.hosts.remove(b.Id),
    success: 'Delete Packer Host Success.',
    data: () => null,
  }),
  RefreshPackerHost: action({
    code: 'bool',
    input: hostId,
    run: (c, b) => c.services.hosts.refresh(b.Id),
    success: 'Refresh Packer Host Success.',
    data: () => null,
  }),
  VerifyPackerConnection: action({
    code: 'bool',
    input: z.object({ HostId: text(64), TransAddr: optional }),
    run: (c, b) => c.services.hosts.verify(b.HostId, b.TransAddr),
    success: 'Success.',
    data: () => null,
  }),
  UpdatePackerHost: action({
    code: 'bool',
    // TransId is documented but a host keeps its transport: it is accepted and ignored
    input: z.object({ Id: text(64), Name: field, TransId: optional }),
    run: (c, b) => c.services.hosts.update(b.Id, b.Name),
    success: 'Update Packer Host Success.',
    data: () => null,
  }),
  ListHosts: action({
    code: 'bool',
    input: z.object({ Name: optional, MgntAddr: optional, TaskFree: z.boolean().optional() }),
    run: async (c, b) => {
      const hosts = await c.services.hosts.list({ name: b.Name, mgntAddr: b.MgntAddr, taskFree: b.TaskFree });
      return hosts.ok ? { ok: true as const, value: { hosts: hosts.value, platforms: await c.services.vsphere.list() } } : hosts;
    },
    success: 'List Hosts Success.',
    data: ({ hosts, platforms }) => ({ AgentHosts: hosts.map(listed), VSPlatforms: platforms.map(listedPlatform) }),
  }),
  GetPackerHost: action({
    code: 'bool',
    input: hostId,
    run: (c, b) => c.services.hosts.get(b.Id),
    success: 'Get Packer Host Success.',
    data: detail,
  }),
  ...vsphereActions,
};

export const hostRoutes: RestRoutes = {
  '/portal/MgmtHostConnection': hostActions,
  '/MgmtHostConnection': hostActions,
};
