import { retrieveOne } from './property-collector.js';
import { asArray, moRefXml, num, text, textXml, type MoRef, type XmlNode } from './soap-xml.js';
import type { VimSession } from './vim-session.js';
import { runTask } from './vim-tasks.js';
import { VSphereError } from './vsphere-error.js';

export interface ChangedArea {
  start: number;
  length: number;
}

/** Whether the VM can track changed blocks, and whether it does. */
export async function changeTrackingOf(session: VimSession, vm: MoRef): Promise<{ supported: boolean; enabled: boolean }> {
  const props = await retrieveOne(session, vm, ['capability.changeTrackingSupported', 'config.changeTrackingEnabled']);
  return { supported: text(props.get('capability.changeTrackingSupported')) === 'true', enabled: text(props.get('config.changeTrackingEnabled')) === 'true' };
}

/** Turns changed-block tracking on; it starts counting at the VM's next snapshot. */
export async function enableChangeTracking(session: VimSession, vm: MoRef): Promise<void> {
  await runTask(session, 'ReconfigVM_Task', vm, `<spec>${textXml('changeTrackingEnabled', true)}</spec>`, 'turn on changed-block tracking (ReconfigVM_Task)');
}

/**
 * The areas of a disk that changed between `changeId` (a state recorded earlier, `*` for "every
 * allocated area") and the snapshot (QueryChangedDiskAreas), asked again from where each answer
 * stops until the whole disk is covered.
 */
export async function queryChangedAreas(session: VimSession, vm: MoRef, snapshot: MoRef, deviceKey: number, capacityBytes: number, changeId: string): Promise<ChangedArea[]> {
  const areas: ChangedArea[] = [];
  const what = `ask the changed areas of disk ${deviceKey} (QueryChangedDiskAreas)`;
  for (let offset = 0; offset < capacityBytes; ) {
    const body = moRefXml('snapshot', snapshot) + textXml('deviceKey', deviceKey) + textXml('startOffset', offset) + textXml('changeId', changeId);
    const info = (await session.call('QueryChangedDiskAreas', vm, body, what)).returnval as XmlNode | undefined;
    const start = num(info?.startOffset);
    const length = num(info?.length);
    if (start === undefined || !length || start !== offset) throw new VSphereError('bad-response', session.platform, what, `the answer covers ${length ?? 0} bytes from ${start}, asked from ${offset}`);
    for (const a of asArray<XmlNode>(info?.changedArea)) {
      const areaStart = num(a.start) ?? -1;
      const areaLength = num(a.length) ?? 0;
      if (areaStart < 0 || areaLength <= 0 || areaStart + areaLength > capacityBytes) throw new VSphereError('bad-response', session.platform, what, `an area of ${areaLength} bytes at ${areaStart} lies outside the disk`);
      areas.push({ start: areaStart, length: areaLength });
    }
    offset = start + length;
  }
  return areas.sort((a, b) => a.start - b.start);
}

/**
 * The changed areas as at most `maxRanges` byte ranges on block boundaries (each range costs a
 * ticket and a request): areas are widened to whole blocks, and the closest ranges merged first.
 */
export function blockRanges(areas: ChangedArea[], blockSize: number, sizeBytes: number, maxRanges: number): { offset: number; length: number }[] {
  const ranges: { offset: number; end: number }[] = [];
  for (const a of areas) {
    const offset = Math.floor(a.start / blockSize) * blockSize;
    const end = Math.min(sizeBytes, Math.ceil((a.start + a.length) / blockSize) * blockSize);
    const last = ranges.at(-1);
    if (last && offset <= last.end) last.end = Math.max(last.end, end);
    else ranges.push({ offset, end });
  }
  while (ranges.length > maxRanges) {
    let closest = 0;
    for (let i = 1; i < ranges.length - 1; i++) if (ranges[i + 1].offset - ranges[i].end < ranges[closest + 1].offset - ranges[closest].end) closest = i;
    ranges.splice(closest, 2, { offset: ranges[closest].offset, end: ranges[closest + 1].end });
  }
  return ranges.map((r) => ({ offset: r.offset, length: r.end - r.offset }));
}
