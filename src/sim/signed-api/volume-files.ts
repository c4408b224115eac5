import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';

const GiB = 1024 ** 3;

/** Each simulated volume is a sparse file `<dir>/volumes/<id>.img`; its absolute path is the device a server sees. */
export class VolumeFiles {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.resolve(root, 'volumes');
  }

  pathOf(id: string): string {
    return path.join(this.dir, `${id}.img`);
  }

  async create(id: string, sizeGiB: number): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const file = this.pathOf(id);
    const handle = await open(file, 'wx');
    try {
      await handle.truncate(sizeGiB * GiB);
    } finally {
      await handle.close();
    }
    return file;
  }

  async remove(id: string): Promise<void> {
    await rm(this.pathOf(id), { force: true });
  }

  /** Whether the first sector ends with the boot signature 0x55AA (an MBR, or GPT's protective MBR). */
  async hasBootSector(id: string): Promise<boolean> {
    const handle = await open(this.pathOf(id), 'r');
    try {
      const sector = Buffer.alloc(512);
      const { bytesRead } = await handle.read(sector, 0, 512, 0);
      return bytesRead === 512 && sector[510] === 0x55 && sector[511] === 0xaa;
    } finally {
      await handle.close();
    }
  }
}
