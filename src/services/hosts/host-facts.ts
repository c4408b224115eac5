import { VolumeUseType } from '../../../entities/index.js';
import type { DiskFacts, HostFacts } from '../../transport/protocol.js';

const MiB = 1024 * 1024;
/**
 * FreeSpaceNotEnough: a filesystem with less than 100 MiB or less than 1 % of its size free.
 * Conversion (virt-v2v) writes drivers into the guest and refuses a root with less than about
 * 100 MiB free; a nearly full filesystem is also at risk while the copy runs. docs/compatibility.md.
 */
export const MIN_FREE_BYTES = 100 * MiB;
export const MIN_FREE_RATIO = 0.01;

/** The columns of one stored volume (one disk the agent serves), with what keeps it from migrating. */
export interface VolumeColumns {
  path: string;
  type: string;
  filesystem?: string;
  partitionTable?: string;
  capacity: string;
  useType: VolumeUseType;
  freeSpace?: string;
  freeSpaceNotEnough: boolean;
  canNotBeMigrated: boolean;
  canNotBeMigratedReason?: string;
}

const lowOnSpace = (size: number, free: number | null) => free !== null && (free < MIN_FREE_BYTES || free < size * MIN_FREE_RATIO);

export function volumeColumns(disk: DiskFacts): VolumeColumns {
  const filesystems = disk.filesystem ? [{ size: disk.sizeBytes, free: disk.freeBytes }] : disk.partitions.filter((p) => p.filesystem).map((p) => ({ size: p.sizeBytes, free: p.freeBytes }));
  const known = filesystems.filter((f) => f.free !== null);
  // free space is a filesystem's: a disk without one has none to tell
  const free = known.length ? known.reduce((sum, f) => sum + (f.free ?? 0), 0) : null;
  const reason = cannotMigrate(disk);
  return {
    path: disk.path,
    type: 'disk',
    filesystem: disk.filesystem ?? disk.partitions.find((p) => p.filesystem)?.filesystem ?? undefined,
    partitionTable: disk.partitionTable ?? undefined,
    capacity: String(disk.sizeBytes),
    useType: disk.use as VolumeUseType,
    freeSpace: free === null ? undefined : String(free),
    freeSpaceNotEnough: filesystems.some((f) => lowOnSpace(f.size, f.free)),
    canNotBeMigrated: reason !== undefined,
    canNotBeMigratedReason: reason,
  };
}

/** Why a disk cannot be migrated, or undefined. */
function cannotMigrate(disk: DiskFacts): string | undefined {
  if (disk.sizeBytes <= 0) return 'the disk has size 0';
  if (disk.use === 'boot' && !disk.partitionTable && !disk.filesystem) return 'no recognised partition table (MBR, GPT) or filesystem on the boot disk';
  if (disk.use === 'boot' && disk.partitionTable && !disk.partitions.some((p) => p.filesystem)) return 'no recognised filesystem on the boot disk';
  return undefined;
}

/** The host columns an agent's facts set. */
export function hostColumns(facts: HostFacts) {
  const volumes = facts.disks.map(volumeColumns);
  const blocked = volumes.filter((v) => v.canNotBeMigrated);
  return {
    osType: facts.osType.slice(0, 64),
    osName: facts.osName.slice(0, 255),
    cpu: facts.cpus,
    sockets: facts.sockets,
    memory: String(facts.memoryBytes),
    manufacturer: facts.manufacturer?.slice(0, 255) ?? undefined,
    totalSize: String(facts.disks.reduce((sum, d) => sum + d.sizeBytes, 0)),
    hostType: 'physical',
    canNotMigrate: blocked.length > 0 || volumes.length === 0,
    cnmReason: volumes.length === 0 ? 'the agent serves no disk' : blocked.length ? blocked.map((v) => `${v.path}: ${v.canNotBeMigratedReason}`).join('; ') : undefined,
    volumes,
    netInterfaces: facts.netInterfaces.map((n) => ({ name: n.name.slice(0, 64), mac: n.mac.slice(0, 32), ips: n.ips })),
  };
}
