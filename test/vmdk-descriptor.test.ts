import { describe, expect, it } from 'vitest';
import { flatExtentOf, parseVmdkDescriptor } from '../src/drivers/vsphere/vmdk-descriptor.js';

// Descriptors as vSphere writes them: a base disk, a snapshot's delta, a split disk, a sparse one.
const descriptor = (createType: string, extents: string[], parent = 'ffffffff', hint?: string) =>
  ['# Disk DescriptorFile', 'version=1', 'encoding="UTF-8"', 'CID=fffffffe', `parentCID=${parent}`, `createType="${createType}"`, ...(hint ? [`parentFileNameHint="${hint}"`] : []), '', '# Extent description', ...extents, '', '# The Disk Data Base', '#DDB', '', 'ddb.adapterType = "lsilogic"', 'ddb.thinProvisioned = "1"'].join('\n');

describe('VMDK descriptors', () => {
  it('finds the one flat extent of a base disk and its size', () => {
    const d = parseVmdkDescriptor(descriptor('vmfs', ['RW 41943040 VMFS "web-1-flat.vmdk"']))!;
    expect(d).toMatchObject({ createType: 'vmfs', parentCID: 'ffffffff' });
    expect(flatExtentOf(d)).toEqual({ extent: { access: 'RW', sectors: 41943040, type: 'VMFS', file: 'web-1-flat.vmdk', offset: 0 } });
    const hosted = parseVmdkDescriptor(descriptor('monolithicFlat', ['RW 2048 FLAT "my disk-flat.vmdk" 0']))!;
    expect(flatExtentOf(hosted)).toMatchObject({ extent: { file: 'my disk-flat.vmdk', sectors: 2048 } });
  });

  it('refuses what cannot be read as plain bytes, saying why', () => {
    const delta = parseVmdkDescriptor(descriptor('vmfsSparse', ['RW 41943040 VMFSSPARSE "web-1-000001-delta.vmdk"'], '6a7c3f21', 'web-1.vmdk'))!;
    expect(flatExtentOf(delta)).toEqual({ refused: expect.stringMatching(/delta of a snapshot chain \(parent web-1\.vmdk\).*remove or consolidate/) });
    const split = parseVmdkDescriptor(descriptor('twoGbMaxExtentFlat', ['RW 4192256 FLAT "a-f001.vmdk" 0', 'RW 4192256 FLAT "a-f002.vmdk" 0']))!;
    expect(flatExtentOf(split)).toEqual({ refused: expect.stringMatching(/has 2 extents/) });
    const sparse = parseVmdkDescriptor(descriptor('monolithicSparse', ['RW 2048 SPARSE "b.vmdk"']))!;
    expect(flatExtentOf(sparse)).toEqual({ refused: expect.stringMatching(/extent is SPARSE/) });
    expect(parseVmdkDescriptor('KDMV\u0001binary sparse header')).toBeUndefined();
  });
});
