/** One extent line of a VMDK descriptor: `RW 41943040 VMFS "web-1-flat.vmdk"`. */
export interface VmdkExtent {
  access: string;
  sectors: number;
  /** FLAT, VMFS (flat), SPARSE, VMFSSPARSE, SESPARSE, VMFSRDM, … */
  type: string;
  file: string;
  /** in sectors, for FLAT extents */
  offset: number;
}

export interface VmdkDescriptor {
  createType: string;
  /** ffffffff for a disk without a parent; otherwise the disk is a delta of a snapshot chain */
  parentCID: string;
  parentFileNameHint?: string;
  extents: VmdkExtent[];
}

/** Reads the text descriptor of a VMDK (the small `.vmdk` next to its `-flat.vmdk`). */
export function parseVmdkDescriptor(textBody: string): VmdkDescriptor | undefined {
  if (!/^#\s*Disk DescriptorFile/im.test(textBody)) return undefined;
  const values = new Map<string, string>();
  const extents: VmdkExtent[] = [];
  for (const raw of textBody.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const extent = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)\s+"([^"]+)"(?:\s+(\d+))?/.exec(line);
    if (extent) {
      extents.push({ access: extent[1], sectors: Number(extent[2]), type: extent[3].toUpperCase(), file: extent[4], offset: Number(extent[5] ?? 0) });
      continue;
    }
    const kv = /^([\w.]+)\s*=\s*"?([^"]*)"?$/.exec(line);
    if (kv) values.set(kv[1], kv[2]);
  }
  return { createType: values.get('createType') ?? '', parentCID: (values.get('parentCID') ?? 'ffffffff').toLowerCase(), parentFileNameHint: values.get('parentFileNameHint'), extents };
}

const FLAT_TYPES = new Set(['FLAT', 'VMFS']);

/**
 * The one flat extent a disk can be read from as plain bytes, or why it cannot: a delta of a
 * snapshot chain, a sparse disk or a raw device mapping would need VMware's own libraries.
 */
export function flatExtentOf(d: VmdkDescriptor): { extent: VmdkExtent } | { refused: string } {
  if (d.parentCID !== 'ffffffff' || d.parentFileNameHint) return { refused: `it is a delta of a snapshot chain (parent ${d.parentFileNameHint ?? d.parentCID}): the VM has snapshots of its own; remove or consolidate them first` };
  if (d.extents.length !== 1) return { refused: `it has ${d.extents.length} extents (createType ${d.createType}); only disks with one flat extent can be read` };
  const [extent] = d.extents;
  if (!FLAT_TYPES.has(extent.type) || extent.offset !== 0) return { refused: `its extent is ${extent.type} (createType ${d.createType}); only flat extents can be read` };
  return { extent };
}
