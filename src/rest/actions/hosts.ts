import { z } from 'zod';
import type { SourceHost } from '../../../entities/index.js';
import { action, type RestAction, type RestRoutes } from '../action.js';
import { text } from '../input.js';
import { legacyTime } from '../legacy-time.js';

/** Bounded strings whose rules (and messages) are the service's. */
const field = z.string().max(1024);
const optional = field.optional();
const hostId = z.object({ Id: text(64) });
const num = (bigint?: string | null) => (bigint == null ? null : Number(bigint));

/** One agent host of ListHosts, keys as documented. */
const listed = (h: SourceHost) => ({
  ID: h.id,
  Name: h.name,
  MgntAddr: h.mgntAddr,
  OsName: h.osName ?? '',
  TotalSize: num(h.totalSize),
  CreatedTime: legacyTime(h.createdAt),
  Agent: h.agent,
  Offline: h.offline,
});

/** GetPackerHost's Data, keys in the documented order; the vSphere-only keys are empty for an agent host. */
const detail = ({ host: h, inTask }: { host: SourceHost; inTask: boolean }) => ({
  Id: h.id,
  Name: h.name,
  MgntAddr: h.mgntAddr,
  TransName: h.transport?.unwrap().name ?? null,
  TransId: h.transport?.id ?? null,
  TransAddr: h.transport?.unwrap().mgntAddr ?? null,
  OsType: h.osType ?? '',
  OsName: h.osName ?? '',
  CPU: h.cpu ?? null,
  Sockets: h.sockets ?? null,
  Memory: num(h.memory),
  Manufacturer: h.manufacturer ?? '',
  TotalSize: num(h.totalSize),
  HostType: h.hostType ?? '',
  CreatedTime: legacyTime(h.createdAt),
  Agent: h.agent,
  Offline: h.offline,
  InTask: inTask,
  CanNotMigrate: h.canNotMigrate,
  CNMReason: h.cnmReason ?? '',
  VolumeInfos: h.volumes.getItems().map((v) => ({
    Path: v.path,
    Type: v.type,
    Filesystem: v.filesystem ?? '',
    PartitionTable: v.partitionTable ?? '',
    Capacity: Number(v.capacity),
    UseType: v.useType ?? '',
    FreeSpace: num(v.freeSpace),
    FreeSpaceNotEnough: v.freeSpaceNotEnough,
    CanNotBeMigrated: v.canNotBeMigrated,
    CanNotBeMigratedReason: v.canNotBeMigratedReason ?? '',
  })),
  VMHostUuid: '',
  NetInterfaces: h.netInterfaces.getItems().map((n) => ({ Name: n.name ?? '', Mac: n.mac, SubNets: n.ips.map((ip) => ({ Ip: ip })) })),
});

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
    run: (c, b) => c.services.hosts.list({ name: b.Name, mgntAddr: b.MgntAddr, taskFree: b.TaskFree }),
    success: 'List Hosts Success.',
    // the vSphere platforms come with the vSphere capability
    data: (hosts) => ({ AgentHosts: hosts.map(listed), VSPlatforms: [] }),
  }),
  GetPackerHost: action({
    code: 'bool',
    input: hostId,
    run: (c, b) => c.services.hosts.get(b.Id),
    success: 'Get Packer Host Success.',
    data: detail,
  }),
};

export const hostRoutes: RestRoutes = {
  '/portal/MgmtHostConnection': hostActions,
  '/MgmtHostConnection': hostActions,
};
