import type { FilesystemType } from '../protocol.js';
import type { DiskRead } from './partition-table.js';

export interface DetectedFilesystem {
  type: FilesystemType | null;
  /** bytes, where the filesystem tells */
  freeBytes: number | null;
}

/** Reads inside the region being inspected; null when the bytes lie outside it or do not all arrive. */
type RegionRead = (relative: number, length: number) => Promise<Buffer | null>;

const EXT_MAGIC = 0xef53;
const EXT_COMPAT_HAS_JOURNAL = 0x4;
const EXT_INCOMPAT_JOURNAL_DEV = 0x8;
const EXT_INCOMPAT_64BIT = 0x80;
/** what ext3 understands (filetype, recover, meta_bg; sparse_super, large_file, btree_dir): any other feature makes it ext4, as blkid decides */
const EXT3_INCOMPAT = 0x2 | 0x4 | 0x10;
const EXT3_RO_COMPAT = 0x1 | 0x2 | 0x4;

/** Signatures that prove a filesystem, or a volume holding filesystems, that Ferry does not look into. */
const OTHER_SIGNATURES: { offset: number; text: string }[] = [
  { offset: 82, text: 'FAT32   ' },
  { offset: 54, text: 'FAT16   ' },
  { offset: 54, text: 'FAT12   ' },
  { offset: 3, text: 'NTFS    ' },
  { offset: 3, text: 'EXFAT   ' },
  { offset: 0x10040, text: '_BHRfS_M' },
  { offset: 0x8001, text: 'CD001' },
  ...[4096, 8192, 16384, 65536].flatMap((page) => [
    { offset: page - 10, text: 'SWAPSPACE2' },
    { offset: page - 10, text: 'SWAP-SPACE' },
  ]),
  { offset: 512 + 24, text: 'LVM2 001' },
  { offset: 0, text: 'LUKS\xba\xbe' },
];

/**
 * The filesystem in the `sizeBytes` at `offsetBytes` of a disk: ext2/3/4 and xfs with their free space,
 * 'other' for recognised filesystems and volumes we do not measure, null when nothing is recognisable.
 * Never reads outside the region and never throws on bad data; read errors propagate.
 */
export async function detectFilesystem(read: DiskRead, offsetBytes: number, sizeBytes: number): Promise<DetectedFilesystem> {
  const inRegion: RegionRead = async (relative, length) => {
    if (relative < 0 || length <= 0 || relative + length > sizeBytes || !Number.isSafeInteger(offsetBytes + relative)) return null;
    const buf = await read(offsetBytes + relative, length);
    return buf.length >= length ? buf : null;
  };
  const known = (await detectExt(inRegion)) ?? (await detectXfs(inRegion));
  if (known) return known;
  return { type: (await hasOtherSignature(inRegion)) ? 'other' : null, freeBytes: null };
}

async function detectExt(read: RegionRead): Promise<DetectedFilesystem | null> {
  const sb = await read(1024, 1024);
  if (!sb || sb.readUInt16LE(0x38) !== EXT_MAGIC) return null;
  const compat = sb.readUInt32LE(0x5c);
  const incompat = sb.readUInt32LE(0x60);
  const roCompat = sb.readUInt32LE(0x64);
  if (incompat & EXT_INCOMPAT_JOURNAL_DEV) return { type: 'other', freeBytes: null }; // an external journal, not a filesystem of files
  const type = (incompat & ~EXT3_INCOMPAT) !== 0 || (roCompat & ~EXT3_RO_COMPAT) !== 0 ? 'ext4' : compat & EXT_COMPAT_HAS_JOURNAL ? 'ext3' : 'ext2';
  const logBlockSize = sb.readUInt32LE(0x18);
  const high = (at: number) => (incompat & EXT_INCOMPAT_64BIT ? sb.readUInt32LE(at) * 2 ** 32 : 0);
  const blocks = sb.readUInt32LE(0x04) + high(0x150);
  const freeBlocks = sb.readUInt32LE(0x0c) + high(0x158);
  const sane = logBlockSize <= 6 && freeBlocks <= blocks; // blocks of at most 64 KiB
  return { type, freeBytes: sane ? freeBlocks * (1024 << logBlockSize) : null };
}

async function detectXfs(read: RegionRead): Promise<DetectedFilesystem | null> {
  const sb = await read(0, 152);
  if (!sb || sb.toString('latin1', 0, 4) !== 'XFSB') return null;
  const blockSize = sb.readUInt32BE(4);
  const blocks = sb.readBigUInt64BE(8);
  const freeBlocks = sb.readBigUInt64BE(144);
  const sane = blockSize >= 512 && blockSize <= 65536 && (blockSize & (blockSize - 1)) === 0 && freeBlocks <= blocks;
  return { type: 'xfs', freeBytes: sane ? Number(freeBlocks) * blockSize : null };
}

async function hasOtherSignature(read: RegionRead): Promise<boolean> {
  for (const { offset, text } of OTHER_SIGNATURES) {
    const bytes = await read(offset, text.length);
    if (bytes?.toString('latin1') === text) return true;
  }
  return false;
}
