import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignDiskUse, collectHostFacts } from '../src/transport/agent/host-facts.js';
import { detectFilesystem } from '../src/transport/disk/filesystem.js';
import { inspectDisk } from '../src/transport/disk/inspect-disk.js';
import { readPartitionTable, type DiskRead } from '../src/transport/disk/partition-table.js';
import type { DiskFacts, FilesystemType } from '../src/transport/protocol.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;

/** The real tools these tests check Ferry against, and the Debian package that brings each. */
const TOOLS: Record<string, string> = {
  sfdisk: 'fdisk',
  'mkfs.ext2': 'e2fsprogs',
  'mkfs.ext3': 'e2fsprogs',
  'mkfs.ext4': 'e2fsprogs',
  dumpe2fs: 'e2fsprogs',
  'mkfs.xfs': 'xfsprogs',
  xfs_db: 'xfsprogs',
  mkswap: 'util-linux',
  blkid: 'util-linux',
  lsblk: 'util-linux',
  findmnt: 'util-linux',
};

async function tool(name: string, args: string[], input?: string): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const file = path.join(dir, name);
    if (!(await access(file, constants.X_OK).then(() => true, () => false))) continue;
    const child = exec(file, args, { maxBuffer: 16 * MiB });
    if (input !== undefined) child.child.stdin!.end(input);
    return (await child).stdout;
  }
  throw new Error(`${name} is not installed: apt-get install ${TOOLS[name]}`);
}

interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  bootable?: boolean;
  attrs?: string;
}

/** Writes a table with sfdisk and returns the layout sfdisk reports for it. */
async function partition(image: string, sizeBytes: number, script: string): Promise<SfdiskPartition[]> {
  await writeFile(image, '');
  await truncate(image, sizeBytes);
  await tool('sfdisk', ['-q', image], script);
  return JSON.parse(await tool('sfdisk', ['--json', image])).partitiontable.partitions;
}

const numberOf = (p: SfdiskPartition) => Number(/(\d+)$/.exec(p.node)![1]);
const byNumber = (layout: SfdiskPartition[], n: number) => layout.find((p) => numberOf(p) === n)!;

/** Copies `source` into `image` at `offset`, skipping all-zero chunks so sparse images stay sparse. */
async function copyInto(image: string, offset: number, source: string): Promise<void> {
  const [from, to] = await Promise.all([open(source, 'r'), open(image, 'r+')]);
  try {
    const chunk = Buffer.alloc(MiB);
    for (let at = 0; ; at += MiB) {
      const { bytesRead } = await from.read(chunk, 0, MiB, at);
      if (bytesRead === 0) break;
      if (chunk.subarray(0, bytesRead).some((b) => b !== 0)) await to.write(chunk, 0, bytesRead, offset + at);
    }
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}

async function ext4FreeBytes(image: string, offset: number): Promise<number> {
  const header = await tool('dumpe2fs', ['-h', `${image}?offset=${offset}`]);
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(header)![1]);
  return field('Free blocks') * field('Block size');
}

async function xfsFreeBytes(image: string): Promise<number> {
  const out = await tool('xfs_db', ['-r', '-c', 'sb 0', '-c', 'print fdblocks blocksize', image]);
  const field = (name: string) => Number(new RegExp(`^${name} = (\\d+)`, 'm').exec(out)![1]);
  return field('fdblocks') * field('blocksize');
}

/** What blkid finds at a region, in Ferry's terms. */
async function blkidType(image: string, offset: number, size: number): Promise<FilesystemType | null> {
  const found = await tool('blkid', ['-p', '-o', 'value', '-s', 'TYPE', '-O', String(offset), '-S', String(size), image]).catch(() => '');
  const type = found.trim();
  if (!type) return null;
  return ['ext2', 'ext3', 'ext4', 'xfs'].includes(type) ? (type as FilesystemType) : 'other';
}

/** Ferry's view of a partition must equal sfdisk's, and its filesystem blkid's. */
async function expectMatchesTools(image: string, disk: Omit<DiskFacts, 'use'>, layout: SfdiskPartition[]): Promise<void> {
  expect(disk.partitions.map((p) => p.number)).toEqual(layout.map(numberOf));
  for (const p of disk.partitions) {
    const oracle = byNumber(layout, p.number);
    expect(p.startBytes).toBe(oracle.start * 512);
    expect(p.sizeBytes).toBe(oracle.size * 512);
    expect(parseInt(p.typeId, 16).toString(16) === oracle.type.toLowerCase() || p.typeId === oracle.type).toBe(true);
    expect(p.filesystem, `partition ${p.number}`).toBe(await blkidType(image, p.startBytes, p.sizeBytes));
  }
}

/** A reader over a buffer that fails the test on any read outside it. */
function bufferReader(disk: Buffer): DiskRead {
  return async (offset, length) => {
    if (offset < 0 || length < 0 || offset + length > disk.length) throw new Error(`read outside the disk: ${offset}+${length}`);
    return disk.subarray(offset, offset + length);
  };
}

describe('disk inspection of real images', () => {
  let dir: string;
  const images = { mbr: '', gpt: '', wholeExt4: '', xfs: '', garbage: '', zero: '' };
  let mbrLayout: SfdiskPartition[];
  let gptLayout: SfdiskPartition[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-disks-'));
    for (const name of Object.keys(images) as (keyof typeof images)[]) images[name] = path.join(dir, `${name}.img`);

    mbrLayout = await partition(images.mbr, 200 * MiB, [
      'label: dos',
      'size=64MiB, type=83, bootable',
      'size=32MiB, type=83',
      'type=5',
      'size=16MiB, type=83',
      'size=8MiB, type=82',
    ].join('\n'));
    const mkfsAt = async (mkfs: string, image: string, p: SfdiskPartition) =>
      tool(mkfs, ['-q', '-F', '-E', `offset=${p.start * 512}`, image, `${(p.size * 512) / 1024}k`]);
    await mkfsAt('mkfs.ext4', images.mbr, byNumber(mbrLayout, 1));
    await mkfsAt('mkfs.ext3', images.mbr, byNumber(mbrLayout, 2));
    await mkfsAt('mkfs.ext2', images.mbr, byNumber(mbrLayout, 5));
    const swap = path.join(dir, 'swap.part');
    await writeFile(swap, '');
    await truncate(swap, 8 * MiB);
    await tool('mkswap', ['-q', swap]);
    await copyInto(images.mbr, byNumber(mbrLayout, 6).start * 512, swap);

    gptLayout = await partition(images.gpt, 1024 * MiB, [
      'label: gpt',
      'size=32MiB, type=U',
      'size=64MiB, type=L, attrs="LegacyBIOSBootable"',
      'size=320MiB, type=L',
      'size=8MiB, type=S',
      'size=1MiB, type=21686148-6449-6E6F-744E-656564454649',
    ].join('\n'));
    await mkfsAt('mkfs.ext4', images.gpt, byNumber(gptLayout, 2));
    await writeFile(images.xfs, '');
    await truncate(images.xfs, byNumber(gptLayout, 3).size * 512);
    await tool('mkfs.xfs', ['-q', '-f', images.xfs]); // at least 300 MB: xfsprogs refuses smaller
    await copyInto(images.gpt, byNumber(gptLayout, 3).start * 512, images.xfs);
    await copyInto(images.gpt, byNumber(gptLayout, 4).start * 512, swap);

    await writeFile(images.wholeExt4, '');
    await truncate(images.wholeExt4, 32 * MiB);
    await tool('mkfs.ext4', ['-q', '-F', images.wholeExt4]);
    await writeFile(images.garbage, randomBytes(4 * MiB));
    await writeFile(images.zero, '');
    await truncate(images.zero, 4 * MiB);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads an MBR table with its logical partitions as sfdisk wrote it, and the filesystems in it', async () => {
    const disk = await inspectDisk(images.mbr);
    expect(disk).toMatchObject({ path: images.mbr, kind: 'image-file', sizeBytes: 200 * MiB, partitionTable: 'MBR', filesystem: null });
    await expectMatchesTools(images.mbr, disk, mbrLayout);
    expect(disk.partitions.map((p) => [p.number, p.typeId, p.bootable, p.filesystem])).toEqual([
      [1, '83', true, 'ext4'],
      [2, '83', false, 'ext3'],
      [3, '05', false, null],
      [5, '83', false, 'ext2'],
      [6, '82', false, 'other'],
    ]);
    expect(disk.partitions.map((p) => p.bootable)).toEqual(mbrLayout.map((p) => p.bootable === true));
    for (const n of [1, 2, 5]) {
      const p = disk.partitions.find((q) => q.number === n)!;
      expect(p.freeBytes, `partition ${n}`).toBe(await ext4FreeBytes(images.mbr, p.startBytes));
    }
    expect(disk.partitions.find((p) => p.number === 6)!.freeBytes).toBeNull();
  });

  it('reads a GPT table: ESP, legacy-bootable and BIOS boot partitions are bootable; ext4, xfs and swap are told apart', async () => {
    const disk = await inspectDisk(images.gpt);
    expect(disk).toMatchObject({ sizeBytes: 1024 * MiB, partitionTable: 'GPT', filesystem: null, freeBytes: null });
    await expectMatchesTools(images.gpt, disk, gptLayout);
    const bootableByTools = gptLayout.map(
      (p) => ['C12A7328-F81F-11D2-BA4B-00A0C93EC93B', '21686148-6449-6E6F-744E-656564454649'].includes(p.type) || /LegacyBIOSBootable/.test(p.attrs ?? ''),
    );
    expect(disk.partitions.map((p) => p.bootable)).toEqual(bootableByTools);
    expect(disk.partitions.map((p) => [p.number, p.bootable, p.filesystem])).toEqual([
      [1, true, null],
      [2, true, 'ext4'],
      [3, false, 'xfs'],
      [4, false, 'other'],
      [5, true, null],
    ]);
    const [, ext4, xfs] = disk.partitions;
    expect(ext4.freeBytes).toBe(await ext4FreeBytes(images.gpt, ext4.startBytes));
    expect(xfs.freeBytes).toBe(await xfsFreeBytes(images.xfs));
    expect(xfs.freeBytes! / xfs.sizeBytes).toBeGreaterThan(0.5);
  });

  it('finds a filesystem written on a whole disk without a table', async () => {
    const ext4 = await inspectDisk(images.wholeExt4);
    expect(ext4).toMatchObject({ partitionTable: null, partitions: [], filesystem: 'ext4', freeBytes: await ext4FreeBytes(images.wholeExt4, 0) });
    const xfs = await inspectDisk(images.xfs);
    expect(xfs).toMatchObject({ partitionTable: null, filesystem: 'xfs', freeBytes: await xfsFreeBytes(images.xfs) });
  });

  it('reports nothing, without throwing, for random bytes and for zeros', async () => {
    for (const image of [images.garbage, images.zero]) {
      expect(await inspectDisk(image)).toEqual({
        path: image, kind: 'image-file', sizeBytes: 4 * MiB, partitionTable: null, partitions: [], filesystem: null, freeBytes: null,
      });
    }
  });

  it('stays inside the disk and never throws on crafted or random tables', async () => {
    const sector = (fill: (b: Buffer) => void) => {
      const disk = randomBytes(64 * 1024);
      disk[510] = 0x55;
      disk[511] = 0xaa;
      fill(disk);
      return disk;
    };
    /** An MBR or EBR sector at `at`: zeroed, signed, with the given entries. */
    const table = (b: Buffer, at: number, entries: [type: number, start: number, count: number][]) => {
      b.fill(0, at, at + 512);
      b[at + 510] = 0x55;
      b[at + 511] = 0xaa;
      entries.forEach(([type, start, count], i) => {
        b[at + 0x1be + 16 * i + 4] = type;
        b.writeUInt32LE(start, at + 0x1be + 16 * i + 8);
        b.writeUInt32LE(count, at + 0x1be + 16 * i + 12);
      });
    };
    // an extended partition at sector 8 whose second EBR (sector 28) links back to itself
    const loop = sector((b) => {
      table(b, 0, [[0x05, 8, 100]]);
      table(b, 8 * 512, [[0x83, 1, 10], [0x05, 20, 30]]);
      table(b, 28 * 512, [[0x83, 1, 10], [0x05, 20, 30]]);
    });
    const loopTable = await readPartitionTable(bufferReader(loop), loop.length);
    expect(loopTable.type).toBe('MBR');
    expect(loopTable.partitions.map((p) => [p.number, p.startBytes / 512])).toEqual([[1, 8], [5, 9], [6, 29]]);
    // a protective MBR in front of a GPT header that promises entries past the end of the disk
    const badGpt = sector((b) => {
      table(b, 0, [[0xee, 1, 127]]);
      b.write('EFI PART', 512, 'latin1');
      b.writeUInt32LE(92, 512 + 12);
      b.writeBigUInt64LE(10_000n, 512 + 72);
      b.writeUInt32LE(128, 512 + 80);
      b.writeUInt32LE(128, 512 + 84);
    });
    expect(await readPartitionTable(bufferReader(badGpt), badGpt.length)).toEqual({ type: null, partitions: [] });
    for (let round = 0; round < 300; round++) {
      const disk = sector((b) => {
        for (let i = 0; i < 4; i++) b[0x1be + 16 * i] = round % 2 ? 0x80 : 0;
        b[0x1be + 4] = [0xee, 0x05, 0x0f, 0x85, 0x83][round % 5];
        if (round % 3 === 0) b.write('EFI PART', 512, 'latin1');
      });
      const found = await readPartitionTable(bufferReader(disk), disk.length);
      for (const p of found.partitions) expect(p.startBytes + p.sizeBytes).toBeLessThanOrEqual(disk.length);
      await detectFilesystem(bufferReader(disk), 0, disk.length);
    }
  });

  it('collects real host facts for the given images: the first bootable disk boots, the rest hold data', async () => {
    const facts = await collectHostFacts([images.zero, images.wholeExt4, images.mbr, images.gpt, images.garbage]);
    expect(facts.hostname).toBe(os.hostname());
    expect(facts.osType).toBe(os.type().toLowerCase());
    expect(facts.osName.length).toBeGreaterThan(0);
    expect(facts.cpus).toBe(os.cpus().length);
    expect(facts.sockets).toBeGreaterThanOrEqual(1);
    expect(facts.sockets).toBeLessThanOrEqual(facts.cpus);
    expect(facts.memoryBytes).toBe(os.totalmem());
    const external = Object.entries(os.networkInterfaces()).filter(([, a]) => a?.some((x) => !x.internal && x.mac !== '00:00:00:00:00:00'));
    expect(facts.netInterfaces.map((n) => n.name).sort()).toEqual(external.map(([name]) => name).sort());
    for (const n of facts.netInterfaces) expect(n.mac).not.toBe('00:00:00:00:00:00');
    expect(facts.disks.map((d) => [d.path, d.use])).toEqual([
      [images.zero, 'data'],
      [images.wholeExt4, 'data'],
      [images.mbr, 'boot'],
      [images.gpt, 'data'],
      [images.garbage, 'data'],
    ]);
    const oneBootable = await collectHostFacts([images.wholeExt4, images.gpt, images.garbage]);
    expect(oneBootable.disks.map((d) => d.use)).toEqual(['data', 'boot', 'data']);
    const noneBootable = await collectHostFacts([images.garbage, images.wholeExt4, images.zero]);
    expect(noneBootable.disks.map((d) => d.use)).toEqual(['data', 'root', 'data']);
  });

  it('names the disk holding / root unless it is bootable, and leaves boot to the first bootable disk', () => {
    const disk = (bootable: boolean) => ({
      path: '/dev/x', kind: 'block-device' as const, sizeBytes: 1, partitionTable: 'MBR' as const, filesystem: null, freeBytes: null,
      partitions: [{ number: 1, startBytes: 0, sizeBytes: 1, typeId: '83', bootable, filesystem: 'ext4' as const, freeBytes: 0 }],
    });
    const uses = (rootIndex: number, ...bootable: boolean[]) => assignDiskUse(bootable.map(disk), rootIndex).map((d) => d.use);
    expect(uses(1, false, true, true)).toEqual(['data', 'boot', 'data']);
    expect(uses(1, true, false, false)).toEqual(['boot', 'root', 'data']);
    expect(uses(0, false, false)).toEqual(['root', 'data']);
    expect(uses(-1, false, false)).toEqual(['root', 'data']);
  });

  it("collects this machine's own disks without throwing, and the disk under / is its root or boot disk", async () => {
    const facts = await collectHostFacts([]);
    const uses = facts.disks.map((d) => d.use);
    expect(uses.filter((u) => u === 'boot').length).toBeLessThanOrEqual(1);
    expect(uses.filter((u) => u === 'root').length).toBeLessThanOrEqual(1);
    for (const d of facts.disks) {
      expect(d.kind).toBe('block-device');
      expect(d.sizeBytes).toBe(Number((await tool('lsblk', ['-b', '-d', '-n', '-o', 'SIZE', d.path])).trim()));
    }
    const source = (await tool('findmnt', ['-n', '-o', 'SOURCE', '/']).catch(() => '')).trim();
    if (!source.startsWith('/dev/')) return; // `/` on overlay or tmpfs: no disk holds it
    const chain = await tool('lsblk', ['-r', '-n', '-s', '-o', 'NAME,TYPE', source]);
    const rootDisk = chain.split('\n').map((l) => l.split(' ')).find(([, type]) => type === 'disk')?.[0];
    const holder = facts.disks.find((d) => path.basename(d.path) === rootDisk);
    if (holder) expect(['root', 'boot']).toContain(holder.use);
  });
});
