import type { SourceHost } from '../../../entities/index.js';
import { legacyTime } from '../legacy-time.js';

const num = (bigint?: string | null) => (bigint == null ? null : Number(bigint));

/** One agent host of ListHosts, keys as documented. */
export const listed = (h: SourceHost) => ({
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
export const detail = ({ host: h, inTask }: { host: SourceHost; inTask: boolean }) => ({
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
  VMHostUuid: h.vmUuid ?? '',
  NetInterfaces: h.netInterfaces.getItems().map((n) => ({ Name: n.name ?? '', Mac: n.mac, SubNets: n.ips.map((ip) => ({ Ip: ip })) })),
});
