import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { FileHandle } from 'node:fs/promises';

/** Size in bytes of an image file, or of a block device (whose stat size is 0). */
export async function diskSizeBytes(handle: FileHandle, diskPath: string): Promise<number> {
  const stat = await handle.stat();
  if (stat.isFile()) return stat.size;
  if (stat.isBlockDevice()) {
    const name = path.basename(await realpath(diskPath).catch(() => diskPath));
    const sectors = await readFile(`/sys/class/block/${name}/size`, 'utf8').catch(() => '');
    if (sectors.trim()) return Number(sectors.trim()) * 512;
  }
  throw new Error(`${diskPath} is neither a regular file nor a block device whose size can be read`);
}

