import { z } from 'zod';
import type { VspherePlatform } from '../../../entities/index.js';
import type { TreeFolder, TreeHost, TreePlatform, TreeVm } from '../../services/vsphere/vsphere-tree.js';
import { action, type RestAction } from '../action.js';
import { text } from '../input.js';
import { legacyTime } from '../legacy-time.js';
import { hostDetail } from './host-views.js';

const field = z.string().max(1024);
const platformId = z.object({ ID: text(64) });

/** One platform of ListHosts' VSPlatforms, keys as documented. */
export const listedPlatform = (p: VspherePlatform) => ({ ID: p.id, Name: p.name, Ip: p.ip, IsVcenter: p.isVcenter, CreatedTime: legacyTime(p.createdAt) });

const vts = (vms: TreeVm[]) => vms.map((v) => hostDetail(v.host, { id: v.host.transport?.id ?? null, name: v.transport?.name ?? null, mgntAddr: v.transport?.mgntAddr ?? null }, v.volumes, v.nics, v.inTask));
const phyHost = (h: TreeHost) => ({ ID: h.host.id, Name: h.host.name, VTs: vts(h.vms) });
const vmGroup = (f: TreeFolder): unknown => ({ ID: f.folder.id, Name: f.folder.name, VmGroups: f.folders.map(vmGroup), VTs: vts(f.vms) });

/** ListVSHosts' Data: platforms → datacenters → standalone hosts, clusters → hosts, and the VM folder tree. */
const tree = (platforms: TreePlatform[]) =>
  platforms.map(({ platform, datacenters }) => ({
    ...listedPlatform(platform),
    DataCenters: datacenters.map((d) => ({
      ID: d.datacenter.id,
      Name: d.datacenter.name,
      PhyHosts: d.hosts.map(phyHost),
      Clusters: d.clusters.map((c) => ({ ID: c.cluster.id, Name: c.cluster.name, PhyHosts: c.hosts.map(phyHost) })),
      VmGroups: d.folders.map(vmGroup),
    })),
  }));

export const vsphereActions: Record<string, RestAction> = {
  AddVSPlatform: action({
    code: 'int',
    input: z.object({ Name: field, Ip: field, UserName: field, Passwd: field, TransId: field, CertThumbprint: field.optional() }),
    run: async (c, b) => {
      const added = await c.services.vsphere.add({ name: b.Name, ip: b.Ip, userName: b.UserName, passwd: b.Passwd, transId: b.TransId, certThumbprint: b.CertThumbprint });
      return added;
    },
    // VMs that share a BIOS UUID: Code 1 with them, as documented; the platform is added all the same
    successCode: (v) => (v.sharedUuids.length ? 1 : 0),
    message: (v) =>
      v.sharedUuids.length
        ? `Added, with ${v.report.vms} VMs; ${v.sharedUuids.length} of them share a UUID with another (Ferry tells them apart by instanceUuid).`
        : `Add VSPlatform Success. ${v.report.vms} VMs.${v.platform.certThumbprint ? ` Certificate SHA-256 ${v.platform.certThumbprint} recorded.` : ''}`,
    success: '',
    data: (v) => (v.sharedUuids.length ? v.sharedUuids.map((s) => ({ Name: s.name, EsxiHost: s.esxiHost, Uuid: s.uuid })) : { Count: v.report.vms, ID: v.platform.id, CertThumbprint: v.platform.certThumbprint ?? '' }),
  }),
  DeleteVSPlatform: action({
    code: 'int',
    input: platformId,
    run: (c, b) => c.services.vsphere.remove(b.ID),
    success: 'Delete VSPlatform Success.',
    data: () => null,
  }),
  RefreshVSPlatform: action({
    code: 'int',
    input: platformId,
    run: (c, b) => c.services.vsphere.refresh(b.ID),
    success: '',
    message: ({ report: r }) =>
      `Refresh VSPlatform Success. ${r.vms} VMs: ${r.added.length} new, ${r.removed.length} gone, ${r.renamed.length} renamed, ${r.moved.length} moved${r.flagged.length ? `, ${r.flagged.length} gone but kept for their tasks (${r.flagged.join(', ')})` : ''}.`,
    data: () => null,
  }),
  UpdateVSPlatform: action({
    code: 'int',
    input: z.object({ ID: text(64), Name: field.optional(), UserName: field.optional(), Passwd: field.optional(), TransId: field.optional(), CertThumbprint: field.optional() }),
    run: (c, b) => c.services.vsphere.update(b.ID, { name: b.Name, userName: b.UserName, passwd: b.Passwd, transId: b.TransId, certThumbprint: b.CertThumbprint }),
    success: 'Update VSPlatform Success.',
    data: () => null,
  }),
  ListVSHosts: action({
    code: 'int',
    input: z.object({}),
    run: (c) => c.services.vsphere.tree(),
    success: 'List VSHosts Success.',
    data: tree,
  }),
  VerifyVSPlatformConnection: action({
    code: 'int',
    input: z.object({ VSPlatformID: text(64), TransAddr: field.optional() }),
    run: (c, b) => c.services.vsphere.verify(b.VSPlatformID, b.TransAddr),
    success: 'Success.',
    data: () => null,
  }),
};

