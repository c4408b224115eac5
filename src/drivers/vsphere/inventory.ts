import { retrieveAll, SessionRenewed, type ObjectProps, type WalkOptions } from './property-collector.js';
import { moRef, num, text } from './soap-xml.js';
import type { About, VimSession } from './vim-session.js';
import { readHardware, type VmDisk, type VmNic } from './vm-hardware.js';

export interface InventoryDatacenter {
  moref: string;
  name: string;
}
export interface InventoryCluster {
  moref: string;
  name: string;
  datacenter: string;
}
export interface InventoryHost {
  moref: string;
  name: string;
  datacenter: string;
  /** null for a standalone host */
  cluster: string | null;
}
/** A VM folder below a datacenter's root VM folder (that root is the datacenter itself in the tree). */
export interface InventoryFolder {
  moref: string;
  name: string;
  datacenter: string;
  /** null at the top, under the datacenter */
  parent: string | null;
}
export interface InventoryVm {
  moref: string;
  name: string;
  datacenter: string;
  folder: string | null;
  host: string | null;
  /** config.uuid, the BIOS UUID: clones may share it */
  uuid: string;
  /** config.instanceUuid: unique within one vCenter */
  instanceUuid: string;
  guestFullName: string;
  guestId: string;
  cpus: number;
  coresPerSocket: number;
  memoryMB: number;
  powerState: string;
  ipAddress: string;
  template: boolean;
  disks: VmDisk[];
  nics: VmNic[];
}
export interface Inventory {
  about: About;
  datacenters: InventoryDatacenter[];
  clusters: InventoryCluster[];
  hosts: InventoryHost[];
  folders: InventoryFolder[];
  vms: InventoryVm[];
}

const PATHS = {
  Datacenter: ['name', 'parent', 'vmFolder'],
  Folder: ['name', 'parent'],
  ComputeResource: ['name', 'parent'],
  ClusterComputeResource: ['name', 'parent'],
  HostSystem: ['name', 'parent'],
  VirtualMachine: [
    'name', 'parent', 'runtime.host', 'runtime.powerState', 'config.uuid', 'config.instanceUuid', 'config.guestFullName', 'config.guestId', 'config.template',
    'config.hardware.numCPU', 'config.hardware.numCoresPerSocket', 'config.hardware.memoryMB', 'config.hardware.device', 'guest.net', 'guest.ipAddress',
  ],
};

/** Reads the whole tree; a session renewed mid-walk starts the walk again (at most twice). */
export async function readInventory(session: VimSession, options: WalkOptions = {}): Promise<Inventory> {
  for (let attempt = 0; ; attempt++) {
    try {
      return buildTree(session.about, await retrieveAll(session, PATHS, options));
    } catch (err) {
      if (!(err instanceof SessionRenewed) || attempt >= 2) throw err;
    }
  }
}

function buildTree(about: About, objects: ObjectProps[]): Inventory {
  const byRef = new Map(objects.map((o) => [o.ref.value, o]));
  const str = (o: ObjectProps, path: string) => text(o.props.get(path)) ?? '';
  const parentOf = (o: ObjectProps) => moRef(o.props.get('parent'))?.value;
  /** the nearest ancestor of a type */
  const ancestor = (o: ObjectProps, type: string): ObjectProps | undefined => {
    for (let p = parentOf(o), hops = 0; p && hops < 1000; p = parentOf(byRef.get(p)!), hops++) {
      const up = byRef.get(p);
      if (!up) return undefined;
      if (up.ref.type === type) return up;
    }
    return undefined;
  };
  const of = (type: string) => objects.filter((o) => o.ref.type === type);

  const datacenters = of('Datacenter');
  const rootVmFolders = new Set(datacenters.map((d) => moRef(d.props.get('vmFolder'))?.value));
  // VM folders: those with a datacenter's root VM folder among their ancestors (or being one)
  const inVmTree = (o: ObjectProps): boolean => {
    for (let p: string | undefined = o.ref.value, hops = 0; p && hops < 1000; p = parentOf(byRef.get(p)!), hops++) {
      if (rootVmFolders.has(p)) return true;
      if (!byRef.get(p)) return false;
    }
    return false;
  };
  const dcOf = (o: ObjectProps) => ancestor(o, 'Datacenter')?.ref.value ?? '';

  const folders = of('Folder')
    .filter((f) => !rootVmFolders.has(f.ref.value) && inVmTree(f))
    .map((f) => {
      const parent = parentOf(f);
      return { moref: f.ref.value, name: str(f, 'name'), datacenter: dcOf(f), parent: parent && !rootVmFolders.has(parent) ? parent : null };
    });
  const clusters = of('ClusterComputeResource').map((c) => ({ moref: c.ref.value, name: str(c, 'name'), datacenter: dcOf(c) }));
  const hosts = of('HostSystem').map((h) => {
    const parent = byRef.get(parentOf(h) ?? '');
    return { moref: h.ref.value, name: str(h, 'name'), datacenter: dcOf(h), cluster: parent?.ref.type === 'ClusterComputeResource' ? parent.ref.value : null };
  });
  const vms = of('VirtualMachine').map((v): InventoryVm => {
    const parent = parentOf(v);
    const { disks, nics } = readHardware(v.props.get('config.hardware.device'), v.props.get('guest.net'));
    return {
      moref: v.ref.value,
      name: str(v, 'name'),
      datacenter: dcOf(v),
      folder: parent && !rootVmFolders.has(parent) && byRef.get(parent)?.ref.type === 'Folder' ? parent : null,
      host: moRef(v.props.get('runtime.host'))?.value ?? null,
      uuid: str(v, 'config.uuid'),
      instanceUuid: str(v, 'config.instanceUuid'),
      guestFullName: str(v, 'config.guestFullName'),
      guestId: str(v, 'config.guestId'),
      cpus: num(v.props.get('config.hardware.numCPU')) ?? 0,
      coresPerSocket: num(v.props.get('config.hardware.numCoresPerSocket')) ?? 1,
      memoryMB: num(v.props.get('config.hardware.memoryMB')) ?? 0,
      powerState: str(v, 'runtime.powerState'),
      ipAddress: str(v, 'guest.ipAddress'),
      template: str(v, 'config.template') === 'true',
      disks,
      nics,
    };
  });
  return {
    about,
    datacenters: datacenters.map((d) => ({ moref: d.ref.value, name: str(d, 'name') })),
    clusters,
    hosts,
    folders,
    vms,
  };
}

