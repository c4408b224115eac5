import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { inspectDisk } from '../disk/inspect-disk.js';
import type { ConversionRequest, ConversionResult } from '../protocol.js';

const run = promisify(execFile);
export const V2V_TOOL = 'virt-v2v-in-place';

async function findOnPath(tool: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, tool);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

export class ConversionFailure extends Error {}

/**
 * Converts the boot disk for the target cloud with virt-v2v-in-place when the transport has it.
 * Without it, the boot disk is checked and the answer says plainly that nothing was converted.
 */
export async function convertTargets(request: ConversionRequest): Promise<ConversionResult> {
  const boot = request.targets.find((t) => t.boot) ?? request.targets[0];
  const inspected = await inspectDisk(boot.targetPath).catch((err: Error) => {
    throw new ConversionFailure(`cannot read the boot disk ${boot.targetPath}: ${err.message}`);
  });
  const filesystems = inspected.partitions.length ? inspected.partitions.map((p) => p.filesystem) : [inspected.filesystem];
  const bootDisk = { targetPath: boot.targetPath, partitionTable: inspected.partitionTable, filesystems };
  if (!filesystems.some((fs) => fs !== null)) {
    throw new ConversionFailure(`the boot disk ${boot.targetPath} holds no filesystem Ferry recognises (partition table: ${inspected.partitionTable ?? 'none'})`);
  }
  const tool = await findOnPath(V2V_TOOL);
  if (!tool) {
    return {
      converted: false,
      tool: null,
      message: `${V2V_TOOL} is not installed on this transport: the boot disk was checked (${inspected.partitionTable ?? 'no partition table'}, filesystems ${filesystems.map((f) => f ?? 'none').join(', ')}) but NOT converted`,
      bootDisk,
    };
  }
  try {
    await run(tool, ['-i', 'disk', boot.targetPath], { timeout: 3_600_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new ConversionFailure(`${V2V_TOOL} failed on ${boot.targetPath}: ${(e.stderr || e.message).trim().split('\n').slice(-5).join(' | ')}`);
  }
  return { converted: true, tool: V2V_TOOL, message: `${V2V_TOOL} converted ${boot.targetPath}`, bootDisk };
}
