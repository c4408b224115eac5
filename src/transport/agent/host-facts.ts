import { access, readdir, readFile, realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspectDisk } from '../disk/inspect-disk.js';
import type { DiskFacts, HostFacts, NetInterfaceFacts } from '../protocol.js';

type InspectedDisk = Omit<DiskFacts, 'use'>;

/** Block devices that are never a server's own disk: loop images, RAM disks, device-mapper volumes, optical drives. */
const NOT_A_DISK = /^(loop|ram|zram|dm-|sr)/;
const LINUX_FILESYSTEMS = new Set(['ext2', 'ext3', 'ext4', 'xfs']);

/** The facts of this machine; its disks are `diskPaths` when given, else its whole-disk block devices. */
export async function collectHostFacts(diskPaths: string[]): Promise<HostFacts> {
  const [osName, sockets, manufacturer, disks, rootDisk] = await Promise.all([
    readOsName(),
    countSockets(),
    readManufacturer(),
    diskPaths.length > 0 ? Promise.all(diskPaths.map(inspectDisk)) : inspectWholeDisks(),
    rootDiskName(),
  ]);
  const rootIndex = rootDisk === null ? -1 : await indexOfDevice(disks, rootDisk);
  return {
    hostname: os.hostname(),
    osType: os.type().toLowerCase(),
    osName,
    cpus: os.cpus().length,
    sockets,
    memoryBytes: os.totalmem(),
    manufacturer,
    netInterfaces: listNetInterfaces(),
    disks: assignDiskUse(disks, rootIndex),
  };
}

/**
 * Which disk is which. The root disk is the one holding `/`; image files hold nothing mounted here, so among
 * them the first bootable disk stands for it. The root disk reports 'boot' when it holds a bootable partition
 * (MBR active flag, ESP, BIOS boot, legacy-bootable GPT attribute), else 'root'; a root disk that is not bootable
 * leaves 'boot' to the first bootable disk. With no bootable disk and none holding `/`, the first disk with a
 * Linux filesystem reports 'root'. Every other disk reports 'data': at most one 'boot' and one 'root'.
 */
export function assignDiskUse(disks: InspectedDisk[], rootIndex: number): DiskFacts[] {
  const bootable = (disk: InspectedDisk) => disk.partitions.some((p) => p.bootable);
  const hasLinuxFilesystem = (disk: InspectedDisk) =>
    [disk.filesystem, ...disk.partitions.map((p) => p.filesystem)].some((fs) => fs !== null && LINUX_FILESYSTEMS.has(fs));
  const root = disks[rootIndex] as InspectedDisk | undefined;
  const bootIndex = root && bootable(root) ? rootIndex : disks.findIndex(bootable);
  const rootOnlyIndex = root ? rootIndex : bootIndex < 0 ? disks.findIndex(hasLinuxFilesystem) : -1;
  return disks.map((disk, i) => ({ ...disk, use: i === bootIndex ? 'boot' : i === rootOnlyIndex ? 'root' : 'data' }));
}

async function readOsName(): Promise<string> {
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const pretty = /^PRETTY_NAME=(["']?)(.*)\1\s*$/m.exec(text)?.[2].trim();
    if (pretty) return pretty;
  }
  return `${os.type()} ${os.release()}`;
}

async function countSockets(): Promise<number> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const ids = new Set(cpuinfo.match(/^physical id\s*:.*$/gm) ?? []);
  return Math.max(1, ids.size);
}

async function readManufacturer(): Promise<string | null> {
  const vendor = await readFile('/sys/class/dmi/id/sys_vendor', 'utf8').catch(() => '');
  return vendor.trim() || null;
}

/** Interfaces with a real MAC, their IPv4 addresses before their IPv6 ones. */
function listNetInterfaces(): NetInterfaceFacts[] {
  return Object.entries(os.networkInterfaces()).flatMap(([name, addresses = []]) => {
    const external = addresses.filter((a) => !a.internal && a.mac !== '00:00:00:00:00:00');
    if (external.length === 0) return [];
    const ips = [...external.filter((a) => a.family === 'IPv4'), ...external.filter((a) => a.family !== 'IPv4')].map((a) => a.address);
    return [{ name, mac: external[0].mac, ips }];
  });
}

/** The machine's whole disks; a device this agent cannot open is left out, as it could not serve it either. */
async function inspectWholeDisks(): Promise<InspectedDisk[]> {
  const names = (await readdir('/sys/block').catch(() => [] as string[])).filter((name) => !NOT_A_DISK.test(name));
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const disks: InspectedDisk[] = [];
  for (const name of names) {
    const sectors = Number((await readFile(`/sys/block/${name}/size`, 'utf8').catch(() => '0')).trim());
    if (!(sectors > 0)) continue; // an empty card reader or a detached virtual disk
    const disk = await inspectDisk(`/dev/${name.replaceAll('!', '/')}`).catch(() => null); // sysfs writes cciss/c0d0 as cciss!c0d0
    if (disk) disks.push(disk);
  }
  return disks;
}

/** The whole disk under `/` ('sda' for /dev/sda2); null when `/` is not on a block device (overlay, tmpfs, NFS). */
async function rootDiskName(): Promise<string | null> {
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  // the last mount on `/` is the one in effect
  const source = mounts.split('\n').map((line) => line.split(' ')).filter((fields) => fields[1] === '/').at(-1)?.[0];
  if (!source?.startsWith('/dev/')) return null;
  return wholeDiskOf(path.basename(await realpath(source).catch(() => source)));
}

async function wholeDiskOf(name: string, depth = 0): Promise<string | null> {
  const dir = await realpath(`/sys/class/block/${name}`).catch(() => null);
  if (!dir || depth > 8) return null;
  if (await access(path.join(dir, 'partition')).then(() => true, () => false)) return path.basename(path.dirname(dir));
  // device-mapper (LVM, LUKS): the disk under its first member
  const members = await readdir(path.join(dir, 'slaves')).catch(() => [] as string[]);
  return members.length > 0 ? wholeDiskOf(members[0], depth + 1) : name;
}

async function indexOfDevice(disks: InspectedDisk[], deviceName: string): Promise<number> {
  for (const [i, disk] of disks.entries()) {
    if (disk.kind !== 'block-device') continue;
    if (path.basename(await realpath(disk.path).catch(() => disk.path)) === deviceName) return i;
  }
  return -1;
}
