import path from 'node:path/posix';
import { SourceHost, VspherePlatform } from '../../../entities/index.js';
import { acquireTicket, datacenterPathOf, datastoreUrl, parseDatastorePath, ticketCookie } from '../../drivers/vsphere/datastore-files.js';
import { blockRanges, changeTrackingOf, enableChangeTracking, queryChangedAreas } from '../../drivers/vsphere/changed-blocks.js';
import type { MoRef } from '../../drivers/vsphere/soap-xml.js';
import { VSphereError } from '../../drivers/vsphere/vsphere-error.js';
import { VimSession } from '../../drivers/vsphere/vim-session.js';
import { flatExtentOf, parseVmdkDescriptor } from '../../drivers/vsphere/vmdk-descriptor.js';
import type { VmDisk } from '../../drivers/vsphere/vm-hardware.js';
import { createSnapshot, listSnapshots, removeSnapshot, snapshotDisks } from '../../drivers/vsphere/vm-snapshots.js';
import type { DatastoreExtent } from '../../transport/protocol.js';
import type { ServiceDeps } from '../context.js';
import { platformSessionOptions } from './platform-session.js';

/** A VM disk that cannot be read over the datastore interface; trying again will not help. */
export class DiskNotReadable extends Error {}

export interface VmDiskReads {
  /** the certificate the transport must see (none: the platform's is signed by a trusted authority) */
  certificateSha256?: string;
  /** by the task volume's name (the disk's backing file when the inventory was read) */
  extents: Map<string, DatastoreExtent>;
  /** the changeId of each disk in the snapshot: what the next copy asks changes since, once this one finished */
  changeIds: Map<string, string | undefined>;
  /** how the disks are read, in words for the task's log */
  how: string;
}

/** A disk to read, with the changeId of the copy the target already holds (none: read it whole). */
export interface VmDiskWanted {
  name: string;
  changeId?: string;
}

type Tracking = { on: true } | { on: false; why: string };

const SECTOR = 512;
/** Changed ranges read per disk and copy at most, each with its own ticket and request; closer ones are merged beyond that. */
const MAX_RANGES = 64;
const MiB = 1024 * 1024;

/**
 * The disks of vSphere VMs, for the transport to read without an agent: Ferry takes a snapshot
 * of the VM (so the disks hold still while the VM runs), finds each disk's flat extent on its
 * datastore, asks changed-block tracking what changed since the last copy, and gets one-time
 * tickets for what must be read; the transport downloads it with them and never sees the
 * platform's credentials. Once the copy ended the snapshot is removed again.
 */
export class VmDiskSources {
  constructor(private readonly deps: ServiceDeps) {}

  /**
   * Snapshots the VM as `snapshotName` (after removing earlier snapshots named with `prefix`, left
   * by an interrupted copy) and prepares the download of each disk: only the ranges changed-block
   * tracking reports changed since the disk's changeId, or the whole disk when there is no
   * changeId or the VM does not track changes. Tracking is turned on where the VM supports it, so
   * it counts from this snapshot on. Throws VSphereError when the platform fails, DiskNotReadable
   * when a disk cannot be read this way.
   */
  async open(host: SourceHost, volumes: VmDiskWanted[], blockSize: number, prefix: string, snapshotName: string, description: string): Promise<VmDiskReads> {
    return this.withSession(host, async (session, vm, platform) => {
      await this.removeNamed(session, vm, prefix);
      const tracking = await this.startTracking(session, vm);
      const snapshot = await createSnapshot(session, vm, snapshotName, description);
      try {
        const disks = await snapshotDisks(session, snapshot);
        const dcPath = await datacenterPathOf(session, vm);
        const extents = new Map<string, DatastoreExtent>();
        const changeIds = new Map<string, string | undefined>();
        const how: string[] = [];
        for (const volume of volumes) {
          const disk = disks.find((d) => d.fileName === volume.name);
          if (!disk) throw new DiskNotReadable(`${volume.name} is no longer a disk of VM "${host.name}" (it has ${disks.map((d) => d.fileName).join(', ') || 'none'}): refresh the platform and create the task again`);
          const plan = await this.readPlan(session, vm, snapshot, dcPath, tracking, volume, disk, blockSize);
          extents.set(volume.name, plan.extent);
          changeIds.set(volume.name, tracking.on ? disk.changeId : undefined);
          how.push(`${volume.name}: ${plan.how}`);
        }
        return { certificateSha256: platform.certThumbprint ?? undefined, extents, changeIds, how: how.join('; ') };
      } catch (err) {
        await removeSnapshot(session, { ref: snapshot, name: snapshotName }).catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * What the transport reads of one disk: the ranges changed since the disk's changeId, each with
   * a ticket; or the whole extent with one ticket, and why.
   */
  private async readPlan(session: VimSession, vm: MoRef, snapshot: MoRef, dcPath: string, tracking: Tracking, volume: VmDiskWanted, disk: VmDisk, blockSize: number): Promise<{ extent: DatastoreExtent; how: string }> {
    const { url, sizeBytes } = await this.flatExtent(session, dcPath, volume.name, disk.capacityBytes);
    let whole = !tracking.on ? `the whole disk (${tracking.why})` : !volume.changeId ? 'the whole disk' : !disk.changeId ? 'the whole disk (the snapshot reports no changeId)' : '';
    if (!whole) {
      try {
        const ranges = blockRanges(await queryChangedAreas(session, vm, snapshot, disk.key, sizeBytes, volume.changeId!), blockSize, sizeBytes, MAX_RANGES);
        const withTickets = [];
        for (const range of ranges) withTickets.push({ ...range, ticket: await acquireTicket(session, url) });
        const changed = ranges.reduce((n, r) => n + r.length, 0);
        return { extent: { url: url.href, sizeBytes, ranges: withTickets }, how: `${(changed / MiB).toFixed(1)} MiB changed of ${(sizeBytes / MiB).toFixed(0)} MiB (changed-block tracking)` };
      } catch (err) {
        // a changeId vSphere no longer knows (tracking was reset): the whole disk, compared block by block
        if (!(err instanceof VSphereError) || err.kind !== 'fault') throw err;
        whole = `the whole disk (changed-block tracking answered ${err.fault ?? 'a fault'})`;
      }
    }
    return { extent: { url: url.href, sizeBytes, ticket: await acquireTicket(session, url) }, how: whole };
  }

  /** Turns changed-block tracking on where the VM supports it; says why not otherwise. */
  private async startTracking(session: VimSession, vm: MoRef): Promise<Tracking> {
    const state = await changeTrackingOf(session, vm);
    if (state.enabled) return { on: true };
    if (!state.supported) return { on: false, why: 'the VM does not support changed-block tracking' };
    try {
      await enableChangeTracking(session, vm);
      return { on: true };
    } catch (err) {
      if (!(err instanceof VSphereError) || err.kind !== 'fault') throw err;
      return { on: false, why: `changed-block tracking could not be turned on: ${err.message}` };
    }
  }

  /** Removes the VM's snapshots named with `prefix`; answers how many there were. */
  async release(host: SourceHost, prefix: string): Promise<number> {
    return this.withSession(host, (session, vm) => this.removeNamed(session, vm, prefix));
  }

  private async removeNamed(session: VimSession, vm: MoRef, prefix: string): Promise<number> {
    const ours = (await listSnapshots(session, vm)).filter((s) => s.name.startsWith(prefix));
    for (const snapshot of ours) await removeSnapshot(session, snapshot);
    return ours.length;
  }

  /** Reads the disk's descriptor and returns its flat extent's address and size. */
  private async flatExtent(session: VimSession, dcPath: string, fileName: string, capacityBytes: number): Promise<{ url: URL; sizeBytes: number }> {
    const where = parseDatastorePath(fileName);
    if (!where) throw new DiskNotReadable(`the disk's backing "${fileName}" is not a datastore path ([datastore] dir/file.vmdk)`);
    const descriptorUrl = datastoreUrl(session, dcPath, where.datastore, where.path);
    const textBody = await session.getFile(descriptorUrl, ticketCookie(await acquireTicket(session, descriptorUrl)), `read the descriptor of ${fileName}`);
    const descriptor = parseVmdkDescriptor(textBody);
    if (!descriptor) throw new DiskNotReadable(`${fileName} is not a VMDK text descriptor`);
    const flat = flatExtentOf(descriptor);
    if ('refused' in flat) throw new DiskNotReadable(`${fileName} cannot be read over the datastore interface: ${flat.refused}`);
    const sizeBytes = flat.extent.sectors * SECTOR;
    if (sizeBytes < capacityBytes) throw new DiskNotReadable(`${fileName}: its extent holds ${sizeBytes} bytes, less than the disk's capacity ${capacityBytes}`);
    const extentUrl = datastoreUrl(session, dcPath, where.datastore, path.join(path.dirname(where.path), flat.extent.file));
    return { url: extentUrl, sizeBytes };
  }

  private async withSession<T>(host: SourceHost, call: (session: VimSession, vm: MoRef, platform: VspherePlatform) => Promise<T>): Promise<T> {
    if (!host.platform || !host.vmMoref) throw new DiskNotReadable(`source host "${host.name}" is not a vSphere VM`);
    if (host.missing) throw new DiskNotReadable(`VM "${host.name}" is no longer in its platform's inventory`);
    const platform = await this.deps.orm.em.fork().findOneOrFail(VspherePlatform, { id: host.platform.id });
    const vm: MoRef = { type: 'VirtualMachine', value: host.vmMoref };
    return VimSession.with(platformSessionOptions(this.deps.sealer, platform), (session) => call(session, vm, platform));
  }
}
