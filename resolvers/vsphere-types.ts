import { DateTimeResolver } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, InterfaceType, ObjectType } from 'type-graphql';
import type { SourceHost as SourceHostRow, VsphereCluster as ClusterRow, VsphereDatacenter as DatacenterRow, VsphereFolder as FolderRow, VsphereHost as HostRow, VspherePlatform as PlatformRow } from '../entities/index.js';
import type { VmDiskRow, VmNicRow, VmRow } from '../src/services/vsphere/vsphere-reads.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import { Node, Payload } from './common.js';

@ObjectType({ implements: Node, description: 'A vCenter or ESXi whose inventory Ferry reads; its VMs migrate without an agent.' })
export class VspherePlatform extends Node {
  @Field(() => String, { description: 'The plain id, as REST shows it.' }) vspherePlatformId!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'Its address as given: host, host:port or URL.' }) address!: string;
  @Field(() => String) userName!: string;
  @Field(() => Boolean) isVcenter!: boolean;
  @Field(() => String, { nullable: true, description: "vCenter's instance UUID: with a VM's instanceUuid it names the VM for good." }) instanceUuid?: string;
  @Field(() => String, { nullable: true, description: 'SHA-256 thumbprint of the self-signed certificate accepted for it; none when an authority vouches for it.' }) certThumbprint?: string;
  @Field(() => DateTimeResolver, { nullable: true }) refreshedAt?: Date;
  @Field(() => DateTimeResolver) createdAt!: Date;
  transportId?: string;
}

export const platformNode = (p: PlatformRow): VspherePlatform =>
  Object.assign(new VspherePlatform(), {
    id: toGlobalId('VspherePlatform', p.id),
    vspherePlatformId: p.id,
    name: p.name,
    address: p.ip,
    userName: p.userName,
    isVcenter: p.isVcenter,
    instanceUuid: p.instanceUuid ?? undefined,
    certThumbprint: p.certThumbprint ?? undefined,
    refreshedAt: p.refreshedAt ?? undefined,
    createdAt: p.createdAt,
    transportId: p.transport?.id,
  });

@InterfaceType({ implements: Node, description: 'A level of a vSphere inventory tree.' })
export abstract class VsphereObject extends Node {
  /** the plain id */
  rowId!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: "vSphere's managed object reference (`datacenter-2`)." }) moref!: string;
}

@ObjectType({ implements: [Node, VsphereObject], description: 'A datacenter of a platform.' })
export class VsphereDatacenter extends VsphereObject {}

@ObjectType({ implements: [Node, VsphereObject], description: 'A cluster of ESXi hosts.' })
export class VsphereCluster extends VsphereObject {}

@ObjectType({ implements: [Node, VsphereObject], description: 'An ESXi host, in a cluster or standalone.' })
export class VsphereHost extends VsphereObject {}

@ObjectType({ implements: [Node, VsphereObject], description: 'A VM folder; folders nest to any depth.' })
export class VmFolder extends VsphereObject {}

const treeNode =
  <T extends VsphereObject>(type: string, make: () => T) =>
  (row: DatacenterRow | ClusterRow | HostRow | FolderRow): T =>
    Object.assign(make(), { id: toGlobalId(type, row.id), rowId: row.id, name: row.name, moref: row.moref });

export const datacenterNode = treeNode('VsphereDatacenter', () => new VsphereDatacenter());
export const clusterNode = treeNode('VsphereCluster', () => new VsphereCluster());
export const esxiHostNode = treeNode('VsphereHost', () => new VsphereHost());
export const folderNode = treeNode('VmFolder', () => new VmFolder());

@ObjectType({ description: 'A virtual disk of a VM.', simpleResolvers: true })
export class VmDisk {
  @Field(() => String, { description: 'Its backing file, `[datastore] dir/name.vmdk`.' }) fileName!: string;
  @Field(() => Float, { description: 'bytes' }) size!: number;
  @Field(() => String, { nullable: true, description: 'Its controller, as vSphere labels it.' }) controller?: string;
  @Field(() => Boolean, { description: 'The first disk: the one the VM boots from.' }) boot!: boolean;
}

export const vmDiskNode = (v: VmDiskRow): VmDisk =>
  Object.assign(new VmDisk(), { fileName: v.backingFile ?? v.path, size: Number(v.capacity), controller: v.controller ?? undefined, boot: v.useType === 'boot' });

@ObjectType({ description: 'A network adapter of a VM.', simpleResolvers: true })
export class VmNic {
  @Field(() => String, { nullable: true }) label?: string;
  @Field(() => String) mac!: string;
  @Field(() => String, { nullable: true, description: 'Its network (port group) name, or distributed port group key.' }) network?: string;
  @Field(() => [String], { description: 'Addresses the guest reports on it (VMware Tools).' }) ips!: string[];
}

export const vmNicNode = (n: VmNicRow): VmNic => Object.assign(new VmNic(), { label: n.name ?? undefined, mac: n.mac, network: n.network ?? undefined, ips: n.ips });

// plain fields read as properties, without type-graphql's per-field wrapper: a tree holds thousands of VMs
@ObjectType({ implements: Node, description: 'A VM of a platform: a source host Ferry migrates without an agent.', simpleResolvers: true })
export class VirtualMachine extends Node {
  @Field(() => String, { description: 'The plain id: the source host id REST uses.' }) sourceHostId!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) moref?: string;
  @Field(() => String, { nullable: true, description: 'config.uuid, the BIOS UUID (clones may share it).' }) uuid?: string;
  @Field(() => String, { nullable: true, description: 'config.instanceUuid, unique within its vCenter: what Ferry knows it by.' }) instanceUuid?: string;
  @Field(() => String, { nullable: true }) guestOs?: string;
  @Field(() => String, { nullable: true, description: 'windows, linux or other.' }) osType?: string;
  @Field(() => Int, { nullable: true }) cpus?: number;
  @Field(() => Int, { nullable: true }) sockets?: number;
  @Field(() => Float, { nullable: true, description: 'bytes' }) memory?: number;
  @Field(() => Float, { nullable: true, description: 'bytes, all disks' }) totalSize?: number;
  @Field(() => String, { nullable: true, description: 'poweredOn, poweredOff or suspended.' }) powerState?: string;
  @Field(() => String, { nullable: true, description: 'Its address, as the guest reports it.' }) ipAddress?: string;
  @Field(() => Boolean, { description: 'Gone from vSphere, kept because a task uses it.' }) missing!: boolean;
  @Field(() => DateTimeResolver, { nullable: true }) refreshedAt?: Date;
  esxiHostId?: string;
  folderId?: string;
  /** its disks and NICs when the page that listed it brought them (then no loader is asked) */
  prefetchedDisks?: VmDisk[];
  prefetchedNics?: VmNic[];
}

/** A VM from its entity (node(id)) or from the plain row of a page (trees), with the disks and NICs the row brought. */
export const vmNode = (h: SourceHostRow | VmRow): VirtualMachine =>
  Object.assign(new VirtualMachine(), {
    id: toGlobalId('VirtualMachine', h.id),
    sourceHostId: h.id,
    name: h.name,
    moref: h.vmMoref ?? undefined,
    uuid: h.vmUuid ?? undefined,
    instanceUuid: h.vmInstanceUuid ?? undefined,
    guestOs: h.osName ?? undefined,
    osType: h.osType ?? undefined,
    cpus: h.cpu ?? undefined,
    sockets: h.sockets ?? undefined,
    memory: h.memory == null ? undefined : Number(h.memory),
    totalSize: h.totalSize == null ? undefined : Number(h.totalSize),
    powerState: h.powerState ?? undefined,
    ipAddress: h.mgntAddr ?? undefined,
    missing: h.missing,
    refreshedAt: h.refreshedAt ?? undefined,
    esxiHostId: h.esxiHost?.id,
    folderId: h.folder?.id,
    prefetchedDisks: 'disks' in h && h.disks ? h.disks.map(vmDiskNode) : undefined,
    prefetchedNics: 'nics' in h && h.nics ? h.nics.map(vmNicNode) : undefined,
  });

@InputType()
export class VspherePlatformAddInput {
  @Field(() => String, { description: '1–64 characters' }) name!: string;
  @Field(() => String, { description: 'The vCenter or ESXi: host, host:port or https URL.' }) address!: string;
  @Field(() => String) userName!: string;
  @Field(() => String) password!: string;
  @Field(() => ID, { description: "The transport server that will read the VMs' disks (global or plain id)." }) transportServerId!: string;
  @Field(() => String, { nullable: true, description: 'The SHA-256 thumbprint (AA:BB:…) its certificate must have; without it a self-signed certificate is accepted as first seen, and recorded.' }) certThumbprint?: string;
}

@InputType()
export class VspherePlatformUpdateInput {
  @Field(() => ID) vspherePlatformId!: string;
  @Field(() => String, { nullable: true }) name?: string;
  @Field(() => String, { nullable: true }) userName?: string;
  @Field(() => String, { nullable: true }) password?: string;
  @Field(() => ID, { nullable: true }) transportServerId?: string;
  @Field(() => String, { nullable: true, description: 'Accept a renewed certificate: its new SHA-256 thumbprint.' }) certThumbprint?: string;
}

@InputType()
export class VspherePlatformIdInput {
  @Field(() => ID) vspherePlatformId!: string;
}

@ObjectType({ description: 'VMs that share a BIOS UUID with another (clones); Ferry tells them apart by instanceUuid.' })
export class SharedUuidVm {
  @Field(() => String) name!: string;
  @Field(() => String) esxiHost!: string;
  @Field(() => String) uuid!: string;
}

@ObjectType({ description: 'What a refresh found changed.' })
export class VsphereRefreshReport {
  @Field(() => Int) vms!: number;
  @Field(() => [String]) added!: string[];
  @Field(() => [String]) removed!: string[];
  @Field(() => [String], { description: 'Gone from vSphere but kept, flagged missing, because a task uses them.' }) flagged!: string[];
  @Field(() => [String], { description: 'New names of renamed VMs.' }) renamed!: string[];
  @Field(() => [String]) moved!: string[];
}

@ObjectType()
export class VspherePlatformPayload extends Payload {
  @Field(() => VspherePlatform, { nullable: true }) vspherePlatform?: VspherePlatform;
  @Field(() => VsphereRefreshReport, { nullable: true }) report?: VsphereRefreshReport;
  @Field(() => [SharedUuidVm], { nullable: true }) sharedUuids?: SharedUuidVm[];
}

@ObjectType()
export class VspherePlatformDeletePayload extends Payload {
  @Field(() => ID, { nullable: true }) deletedVspherePlatformId?: string;
}
