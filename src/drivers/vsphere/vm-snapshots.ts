import { retrieveOne } from './property-collector.js';
import { asArray, moRef, text, textXml, type MoRef, type XmlNode } from './soap-xml.js';
import type { VimSession } from './vim-session.js';
import { runTask } from './vim-tasks.js';
import { readHardware, type VmDisk } from './vm-hardware.js';
import { VSphereError } from './vsphere-error.js';

export interface VmSnapshot {
  ref: MoRef;
  name: string;
}

/**
 * Takes a snapshot without memory and without quiescing (crash-consistent, like pulling the
 * plug): from then on the VM writes into new delta files and the disks as of the snapshot stay
 * still, so they can be read while the VM runs.
 */
export async function createSnapshot(session: VimSession, vm: MoRef, name: string, description: string): Promise<MoRef> {
  const body = textXml('name', name) + textXml('description', description) + textXml('memory', false) + textXml('quiesce', false);
  const result = await runTask(session, 'CreateSnapshot_Task', vm, body, `take snapshot "${name}" of ${vm.value}`, 10 * 60_000);
  const ref = moRef(result);
  if (!ref) throw new VSphereError('bad-response', session.platform, `take snapshot "${name}"`, 'the task gave no snapshot');
  return ref;
}

/** Every snapshot of the VM, depth first. */
export async function listSnapshots(session: VimSession, vm: MoRef): Promise<VmSnapshot[]> {
  const props = await retrieveOne(session, vm, ['snapshot']);
  const found: VmSnapshot[] = [];
  const walk = (trees: unknown) => {
    for (const tree of asArray<XmlNode>(trees)) {
      const ref = moRef(tree.snapshot);
      if (ref) found.push({ ref, name: text(tree.name) ?? '' });
      walk(tree.childSnapshotList);
    }
  };
  walk((props.get('snapshot') as XmlNode | undefined)?.rootSnapshotList);
  return found;
}

/** Removes one snapshot (its children stay); vSphere folds its delta back into the disk. */
export async function removeSnapshot(session: VimSession, snapshot: VmSnapshot): Promise<void> {
  await runTask(session, 'RemoveSnapshot_Task', snapshot.ref, textXml('removeChildren', false) + textXml('consolidate', true), `remove snapshot "${snapshot.name}"`, 30 * 60_000);
}

/** The disks as the snapshot holds them: their backing files are the ones frozen by it. */
export async function snapshotDisks(session: VimSession, snapshot: MoRef): Promise<VmDisk[]> {
  const props = await retrieveOne(session, snapshot, ['config.hardware.device']);
  return readHardware(props.get('config.hardware.device'), undefined).disks;
}
