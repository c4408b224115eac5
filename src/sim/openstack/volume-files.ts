import { execFile } from 'node:child_process';
import { mkdir, open, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const GiB = 1024 ** 3;

/** A sparse file of `sizeGiB`: a volume that takes no room until something is written into it. */
export async function createSparseFile(file: string, sizeGiB: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'w');
  try {
    await handle.truncate(sizeGiB * GiB);
  } finally {
    await handle.close();
  }
}

export const growFile = (file: string, sizeGiB: number) => truncate(file, sizeGiB * GiB);

/** Copies a file keeping its holes holes (GNU cp seeks over them), so a snapshot of an empty volume is instant. */
export async function copySparse(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  await run('cp', ['--sparse=always', from, to]);
}

export const removeFile = (file: string) => rm(file, { force: true });
