import type { PartitionTableType } from '../protocol.js';

/** Reads `length` bytes of the disk at `offset`; may return fewer at the end of the disk. */
export type DiskRead = (offset: number, length: number) => Promise<Buffer>;

export interface TablePartition {
  number: number;
  startBytes: number;
  sizeBytes: number;
  /** MBR type byte as two hex digits (`83`) or the GPT type GUID in upper case */
  typeId: string;
  bootable: boolean;
}

export interface PartitionTable {
  type: PartitionTableType | null;
  partitions: TablePartition[];
}

interface MbrEntry {
  status: number;
  type: number;
  startSector: number;
  sectors: number;
}

const SECTOR = 512;
const EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);
const GPT_PROTECTIVE = 0xee;
export const ESP_GUID = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
export const BIOS_BOOT_GUID = '21686148-6449-6E6F-744E-656564454649';
/** GPT attribute bit 2, in the lowest attribute byte */
const LEGACY_BIOS_BOOTABLE = 0x04;
/** an EBR chain longer than this loops or is garbage */
const MAX_EBRS = 256;
/** GPT entry arrays are 16 KiB in practice; anything far larger is a corrupt header */
const MAX_GPT_ENTRY_BYTES = 1 << 20;

const noTable = (): PartitionTable => ({ type: null, partitions: [] });

/**
 * The MBR or GPT partition table of a disk of `sizeBytes`. Garbage yields `{ type: null }`:
 * nothing here throws on bad data, and no read goes outside the disk. Read errors propagate.
 */
export async function readPartitionTable(read: DiskRead, sizeBytes: number): Promise<PartitionTable> {
  const sector = await readInside(read, sizeBytes, 0, SECTOR);
  const entries = sector && mbrEntries(sector);
  if (!sector || !entries) return noTable();
  if (entries.some((e) => e.type === GPT_PROTECTIVE)) return readGpt(read, sizeBytes);
  // a FAT or NTFS volume written on the whole disk also ends its first sector with 55 AA
  if (entries.every((e) => e.type === 0) && isVolumeBootRecord(sector)) return noTable();
  return { type: 'MBR', partitions: await mbrPartitions(read, sizeBytes, entries) };
}

/** Bytes [offset, offset + length) when they lie inside the disk and all arrive; null otherwise. */
async function readInside(read: DiskRead, sizeBytes: number, offset: number, length: number): Promise<Buffer | null> {
  if (!Number.isSafeInteger(offset) || offset < 0 || length <= 0 || offset + length > sizeBytes) return null;
  const buf = await read(offset, length);
  return buf.length >= length ? buf : null;
}

/** The four entries of an MBR or EBR sector; null when the sector is not a partition table. */
function mbrEntries(sector: Buffer): MbrEntry[] | null {
  if (sector[510] !== 0x55 || sector[511] !== 0xaa) return null;
  const entries: MbrEntry[] = [];
  for (let i = 0; i < 4; i++) {
    const at = 0x1be + 16 * i;
    const status = sector[at];
    if (status !== 0x00 && status !== 0x80) return null; // boot code or noise where a table should be
    entries.push({ status, type: sector[at + 4], startSector: sector.readUInt32LE(at + 8), sectors: sector.readUInt32LE(at + 12) });
  }
  return entries;
}

function isVolumeBootRecord(sector: Buffer): boolean {
  const text = (at: number, length: number) => sector.toString('latin1', at, at + length);
  return (sector[0] === 0xeb || sector[0] === 0xe9) && (text(3, 4) === 'NTFS' || text(54, 3) === 'FAT' || text(82, 3) === 'FAT');
}

async function mbrPartitions(read: DiskRead, sizeBytes: number, entries: MbrEntry[]): Promise<TablePartition[]> {
  const partitions: TablePartition[] = [];
  entries.forEach((entry, i) => {
    const partition = mbrPartition(i + 1, entry, 0, sizeBytes);
    if (partition) partitions.push(partition);
  });
  const extended = partitions.find((p) => EXTENDED_TYPES.has(parseInt(p.typeId, 16)));
  if (extended) partitions.push(...(await logicalPartitions(read, sizeBytes, extended)));
  return partitions;
}

/** An entry whose sectors count from `baseSector`; null when empty or not inside the disk (then it cannot be read). */
function mbrPartition(number: number, entry: MbrEntry, baseSector: number, sizeBytes: number): TablePartition | null {
  if (entry.type === 0 || entry.startSector === 0 || entry.sectors === 0) return null;
  const startBytes = (baseSector + entry.startSector) * SECTOR;
  const length = entry.sectors * SECTOR;
  if (startBytes + length > sizeBytes) return null;
  const typeId = entry.type.toString(16).padStart(2, '0');
  return { number, startBytes, sizeBytes: length, typeId, bootable: entry.status === 0x80 };
}

/** Follows the EBR chain: each EBR holds one logical partition (relative to itself) and a link (relative to the extended partition). */
async function logicalPartitions(read: DiskRead, sizeBytes: number, extended: TablePartition): Promise<TablePartition[]> {
  const firstSector = extended.startBytes / SECTOR;
  const endSector = firstSector + extended.sizeBytes / SECTOR;
  const logical: TablePartition[] = [];
  const visited = new Set<number>();
  let ebrSector = firstSector;
  while (visited.size < MAX_EBRS && !visited.has(ebrSector) && ebrSector < endSector) {
    visited.add(ebrSector);
    const sector = await readInside(read, sizeBytes, ebrSector * SECTOR, SECTOR);
    const entries = sector && mbrEntries(sector);
    if (!entries) break;
    const partition = mbrPartition(5 + logical.length, entries[0], ebrSector, sizeBytes);
    if (partition) logical.push(partition);
    const link = entries[1];
    if (!EXTENDED_TYPES.has(link.type) || link.startSector === 0) break;
    ebrSector = firstSector + link.startSector;
  }
  return logical;
}

/** GPT behind a protective MBR: the primary header at LBA 1, else the backup at the last LBA; 512-byte sectors, else 4 KiB. */
async function readGpt(read: DiskRead, sizeBytes: number): Promise<PartitionTable> {
  for (const sectorSize of [SECTOR, 4096]) {
    const lastLba = Math.floor(sizeBytes / sectorSize) - 1;
    for (const lba of [1, lastLba]) {
      const header = await readInside(read, sizeBytes, lba * sectorSize, sectorSize);
      const entries = header && gptEntryArea(header, sectorSize, lastLba);
      if (!entries) continue;
      const area = entries.bytes === 0 ? Buffer.alloc(0) : await readInside(read, sizeBytes, entries.offset, entries.bytes);
      if (area) return { type: 'GPT', partitions: gptPartitions(area, entries.entrySize, sectorSize, sizeBytes) };
    }
  }
  return noTable();
}

function gptEntryArea(header: Buffer, sectorSize: number, lastLba: number): { offset: number; bytes: number; entrySize: number } | null {
  if (header.toString('latin1', 0, 8) !== 'EFI PART') return null;
  const headerSize = header.readUInt32LE(12);
  const entriesLba = header.readBigUInt64LE(72);
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  if (headerSize < 92 || headerSize > sectorSize) return null;
  if (entrySize < 128 || entrySize % 8 !== 0 || count * entrySize > MAX_GPT_ENTRY_BYTES) return null;
  if (entriesLba < 1n || entriesLba > BigInt(lastLba)) return null;
  return { offset: Number(entriesLba) * sectorSize, bytes: count * entrySize, entrySize };
}

function gptPartitions(area: Buffer, entrySize: number, sectorSize: number, sizeBytes: number): TablePartition[] {
  const partitions: TablePartition[] = [];
  for (let at = 0, index = 0; at + entrySize <= area.length; at += entrySize, index++) {
    const entry = area.subarray(at, at + entrySize);
    if (entry.subarray(0, 16).every((byte) => byte === 0)) continue; // an unused slot
    const first = entry.readBigUInt64LE(32);
    const last = entry.readBigUInt64LE(40);
    if (first < 1n || last < first || (last + 1n) * BigInt(sectorSize) > BigInt(sizeBytes)) continue; // cannot be read
    const typeId = formatGuid(entry.subarray(0, 16));
    const bootable = typeId === ESP_GUID || typeId === BIOS_BOOT_GUID || (entry[48] & LEGACY_BIOS_BOOTABLE) !== 0;
    const startBytes = Number(first) * sectorSize;
    partitions.push({ number: index + 1, startBytes, sizeBytes: Number(last - first + 1n) * sectorSize, typeId, bootable });
  }
  return partitions;
}

/** GUIDs store their first three fields little-endian and the last two as bytes. */
export function formatGuid(bytes: Buffer): string {
  const littleEndian = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).reverse().toString('hex');
  const parts = [littleEndian(0, 4), littleEndian(4, 6), littleEndian(6, 8), bytes.toString('hex', 8, 10), bytes.toString('hex', 10, 16)];
  return parts.join('-').toUpperCase();
}
