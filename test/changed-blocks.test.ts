import { describe, expect, it } from 'vitest';
import { blockRanges } from '../src/drivers/vsphere/changed-blocks.js';

const MiB = 1024 * 1024;
const KiB = 1024;

describe('changed areas as ranges of whole blocks', () => {
  it('widens areas to blocks, merges those that touch, and stops at the end of the disk', () => {
    const areas = [
      { start: 100 * KiB, length: 64 * KiB }, // inside block 0
      { start: MiB - 4 * KiB, length: 8 * KiB }, // crosses into block 1: touches the first
      { start: 5 * MiB, length: 64 * KiB },
      { start: 9 * MiB + 512 * KiB, length: 256 * KiB }, // in the last, shorter block
    ];
    expect(blockRanges(areas, MiB, 9 * MiB + 768 * KiB, 64)).toEqual([
      { offset: 0, length: 2 * MiB },
      { offset: 5 * MiB, length: MiB },
      { offset: 9 * MiB, length: 768 * KiB },
    ]);
    expect(blockRanges([], MiB, 10 * MiB, 64)).toEqual([]);
  });

  it('merges the closest ranges first when there are more than allowed', () => {
    const areas = [0, 2, 3 + 1, 10, 11 + 1, 40].map((n) => ({ start: n * MiB, length: KiB }));
    // blocks 0, 2, 4, 10, 12, 40: gaps 1, 1, 5, 1, 27
    expect(blockRanges(areas, MiB, 64 * MiB, 3)).toEqual([
      { offset: 0, length: 5 * MiB },
      { offset: 10 * MiB, length: 3 * MiB },
      { offset: 40 * MiB, length: MiB },
    ]);
    expect(blockRanges(areas, MiB, 64 * MiB, 1)).toEqual([{ offset: 0, length: 41 * MiB }]);
  });
});
