import type { HostNetInterface, HostVolume, SourceHost } from '../../../entities/index.js';
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

/** The fields of a host that GetPackerHost's Data shows: a SourceHost entity, or a plain row with the same properties (the vSphere tree). */
export type DetailHost = Pick<
  SourceHost,
  'id' | 'name' | 'mgntAddr' | 'osType' | 'osName' | 'cpu' | 'sockets' | 'memory' | 'manufacturer' | 'totalSize' | 'hostType' | 'createdAt' | 'agent' | 'offline' | 'canNotMigrate' | 'cnmReason' | 'vmUuid'
>;
export type DetailVolume = Pick<HostVolume, 'path' | 'type' | 'filesystem' | 'partitionTable' | 'capacity' | 'useType' | 'freeSpace' | 'freeSpaceNotEnough' | 'canNotBeMigrated' | 'canNotBeMigratedReason'>;
export type DetailNic = Pick<HostNetInterface, 'name' | 'mac' | 'ips'>;
/** The host's transport server as GetPackerHost shows it (each part null when unknown). */
export interface DetailTransport {
  id: string | null;
  name: string | null;
  mgntAddr: string | null;
}

/** GetPackerHost's Data, keys in the documented order; the vSphere-only keys are empty for an agent host. */
export const detail = ({ host: h, inTask }: { host: SourceHost; inTask: boolean }) =>
  hostDetail(h, { id: h.transport?.id ?? null, name: h.transport?.unwrap().name ?? null, mgntAddr: h.transport?.unwrap().mgntAddr ?? null }, h.volumes.getItems(), h.netInterfaces.getItems(), inTask);

/** GetPackerHost's Data from a host's fields, transport, volumes and NICs. */
export const hostDetail = (h: DetailHost, t: DetailTransport, volumes: readonly DetailVolume[], nics: readonly DetailNic[], inTask: boolean) => ({
  Id: h.id,
  Name: h.name,
  MgntAddr: h.mgntAddr,
  TransName: t.name,
  TransId: t.id,
  TransAddr: t.mgntAddr,
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
  VolumeInfos: volumes.map((v) => ({
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
  NetInterfaces: nics.map((n) => ({ Name: n.name ?? '', Mac: n.mac, SubNets: n.ips.map((ip) => ({ Ip: ip })) })),
});
