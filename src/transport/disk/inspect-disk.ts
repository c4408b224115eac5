import { open, type FileHandle } from 'node:fs/promises';
import type { DiskFacts, PartitionFacts } from '../protocol.js';
import { diskSizeBytes } from './disk-size.js';
import { detectFilesystem } from './filesystem.js';
import { readPartitionTable, type DiskRead } from './partition-table.js';

/** What a raw image file or a block device holds: its size, partition table, partitions and filesystems. */
export async function inspectDisk(path: string): Promise<Omit<DiskFacts, 'use'>> {
  const handle = await open(path, 'r');
  try {
    const kind = (await handle.stat()).isBlockDevice() ? 'block-device' : 'image-file';
    // the same size the block reader streams, so the facts and the copy agree
    const sizeBytes = await diskSizeBytes(handle, path);
    const read = positionalReader(handle);
    const table = await readPartitionTable(read, sizeBytes);
    const partitions: PartitionFacts[] = [];
    for (const partition of table.partitions) {
      const found = await detectFilesystem(read, partition.startBytes, partition.sizeBytes);
      partitions.push({ ...partition, filesystem: found.type, freeBytes: found.freeBytes });
    }
    const whole = table.type ? { type: null, freeBytes: null } : await detectFilesystem(read, 0, sizeBytes);
    return { path, kind, sizeBytes, partitionTable: table.type, partitions, filesystem: whole.type, freeBytes: whole.freeBytes };
  } finally {
    await handle.close();
  }
}

/** pread on one descriptor: returns fewer bytes only at the end of the disk. */
function positionalReader(handle: FileHandle): DiskRead {
  return async (offset, length) => {
    const buf = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buf, filled, length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  };
}
