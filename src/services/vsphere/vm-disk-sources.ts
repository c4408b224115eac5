import path from 'node:path/posix';
import { SourceHost, VspherePlatform } from '../../../entities/index.js';
import { acquireTicket, datacenterPathOf, datastoreUrl, parseDatastorePath, ticketCookie } from '../../drivers/vsphere/datastore-files.js';
import type { MoRef } from '../../drivers/vsphere/soap-xml.js';
import { VimSession } from '../../drivers/vsphere/vim-session.js';
import { flatExtentOf, parseVmdkDescriptor } from '../../drivers/vsphere/vmdk-descriptor.js';
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
  snapshotName: string;
}

const SECTOR = 512;

/**
 * The disks of vSphere VMs, for the transport to read without an agent: Ferry takes a snapshot
 * of the VM (so the disks hold still while the VM runs), finds each disk's flat extent on its
 * datastore and gets a one-time ticket for it; the transport downloads it with that ticket and
 * never sees the platform's credentials. Once the copy ended the snapshot is removed again.
 */
export class VmDiskSources {
  constructor(private readonly deps: ServiceDeps) {}

  /**
   * Snapshots the VM as `snapshotName` (after removing earlier snapshots named with `prefix`, left
   * by an interrupted copy) and prepares the download of each of `volumes`. Throws VSphereError
   * when the platform fails, DiskNotReadable when a disk cannot be read this way.
   */
  async open(host: SourceHost, volumes: string[], prefix: string, snapshotName: string, description: string): Promise<VmDiskReads> {
    return this.withSession(host, async (session, vm, platform) => {
      await this.removeNamed(session, vm, prefix);
      const snapshot = await createSnapshot(session, vm, snapshotName, description);
      try {
        const disks = await snapshotDisks(session, snapshot);
        const dcPath = await datacenterPathOf(session, vm);
        const extents = new Map<string, DatastoreExtent>();
        for (const volume of volumes) {
          const disk = disks.find((d) => d.fileName === volume);
          if (!disk) throw new DiskNotReadable(`${volume} is no longer a disk of VM "${host.name}" (it has ${disks.map((d) => d.fileName).join(', ') || 'none'}): refresh the platform and create the task again`);
          extents.set(volume, await this.flatExtent(session, dcPath, volume, disk.capacityBytes));
        }
        return { certificateSha256: platform.certThumbprint ?? undefined, extents, snapshotName };
      } catch (err) {
        await removeSnapshot(session, { ref: snapshot, name: snapshotName }).catch(() => undefined);
        throw err;
      }
    });
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

  /** Reads the disk's descriptor and returns its flat extent's address, size and a ticket for it. */
  private async flatExtent(session: VimSession, dcPath: string, fileName: string, capacityBytes: number): Promise<DatastoreExtent> {
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
    return { url: extentUrl.href, ticket: await acquireTicket(session, extentUrl), sizeBytes };
  }

  private async withSession<T>(host: SourceHost, call: (session: VimSession, vm: MoRef, platform: VspherePlatform) => Promise<T>): Promise<T> {
    if (!host.platform || !host.vmMoref) throw new DiskNotReadable(`source host "${host.name}" is not a vSphere VM`);
    if (host.missing) throw new DiskNotReadable(`VM "${host.name}" is no longer in its platform's inventory`);
    const platform = await this.deps.orm.em.fork().findOneOrFail(VspherePlatform, { id: host.platform.id });
    const session = await VimSession.open(platformSessionOptions(this.deps.sealer, platform));
    try {
      return await call(session, { type: 'VirtualMachine', value: host.vmMoref }, platform);
    } finally {
      await session.close();
    }
  }
}
