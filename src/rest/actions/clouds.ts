import { z } from 'zod';
import type { Flavor, NamedRef, Network, Quota } from '../../drivers/cloud/index.js';
import { MASKED_SECRET, type CloudView } from '../../services/clouds/cloud-service.js';
import type { CloudConnectionInput } from '../../services/clouds/cloud-input.js';
import { ok } from '../../services/errors.js';
import { action, type RestRoutes } from '../action.js';
import { text } from '../input.js';
import { legacyTime } from '../legacy-time.js';

const optional = (max = 255) => z.string().max(max).optional();
/** IdentityPort is documented as a string but also shown as a number (5000). */
const port = z.union([z.string().max(8), z.number().int()]).optional().transform((p) => (p === undefined ? undefined : String(p)));

const connectionFields = {
  ProjectName: optional(),
  CloudUser: text(255),
  CloudPass: text(1024),
  IdentityProtocal: optional(8),
  IdentityPort: port,
  CloudAddr: text(512),
  Domain: optional(),
  OwnerId: optional(),
  ownerId: optional(),
  EnvironmentId: optional(),
  ZoneId: optional(),
  zoneId: optional(),
  ZoneName: optional(),
  RegionId: optional(),
  RegionName: optional(),
};

type ConnectionBody = { [K in keyof typeof connectionFields]?: string } & { CloudType?: string };

/** The legacy field names → the service's input (the document spells some two ways). */
const toInput = (name: string, b: ConnectionBody): CloudConnectionInput => ({
  name,
  type: b.CloudType ?? '',
  projectName: b.ProjectName,
  user: b.CloudUser ?? '',
  password: b.CloudPass ?? '',
  protocol: b.IdentityProtocal,
  port: b.IdentityPort,
  address: b.CloudAddr ?? '',
  domain: b.Domain,
  ownerId: b.OwnerId ?? b.ownerId,
  environmentId: b.EnvironmentId,
  zoneId: b.ZoneId ?? b.zoneId,
  zoneName: b.ZoneName,
  regionId: b.RegionId,
  regionName: b.RegionName,
});

/** ListProject, ListEnvironment, ListZone, ListRegion carry CloudUltra 4 / Huayun credentials themselves. */
const akSkBody = z.object({
  APIMgntURL: optional(512),
  CloudAddr: optional(512),
  AccessKey: text(255),
  SecretKey: text(1024),
  IsEncrypted: z.union([z.string(), z.boolean()]).optional(),
  isEncrypted: z.union([z.string(), z.boolean()]).optional(),
  HypervisorType: optional(16),
  EnvironmentId: optional(),
  OwnerId: optional(),
});
const akSkInput = (type: string, b: z.infer<typeof akSkBody>): CloudConnectionInput => ({
  name: type,
  type,
  user: b.AccessKey,
  password: b.SecretKey,
  address: b.APIMgntURL ?? b.CloudAddr ?? '',
  environmentId: b.EnvironmentId,
  ownerId: b.OwnerId,
});

const connectionData = (c: CloudView) => ({
  AccountId: c.ownerId ?? '',
  ID: c.id,
  Name: c.name,
  CloudType: c.type,
  ProjectName: c.projectName ?? 'None',
  Domain: c.domain,
  CloudUser: c.user,
  // the original returned the password in base64, i.e. in clear: Ferry never does
  CloudPass: MASKED_SECRET,
  CloudAddr: c.address,
  IdentityPort: c.port,
  IdentityUrl: c.type === 'Openstack' || c.type === 'ArcherOS 2020' ? `${c.protocol}://${c.address}:${c.port}/v3` : '',
  CreatedTime: legacyTime(c.createdAt),
  RegionName: c.regionName ?? '',
  RegionId: c.regionId ?? '',
});

const refs = (items: NamedRef[]) => items.map((r) => ({ Name: r.name, ID: r.id }));
const cloudId = z.object({ Id: text(64) });

export const cloudRoutes: RestRoutes = {
  '/MgmtCloudConnection': {
    ListCloudType: action({ code: 'int', run: async (c) => ok(c.services.clouds.types()), success: 'Get All Cloud Type Success.' }),
    AddCloudConnection: action({
      code: 'bool',
      input: z.object({ CloudName: text(64), CloudType: text(32), ...connectionFields }),
      run: (c, b) => c.services.clouds.add(toInput(b.CloudName, b)),
      success: 'Add Cloud Connection Success.',
      data: (v) => ({ ID: v.id }),
    }),
    DeleteCloudConnection: action({
      code: 'int',
      input: cloudId,
      run: (c, b) => c.services.clouds.remove(b.Id),
      success: 'Delete Cloud Success.',
      data: () => null,
    }),
    UpdateCloudConnection: action({
      code: 'bool',
      input: z.object({ Id: text(64), Name: optional(64), CloudType: optional(32), ...connectionFields, CloudUser: optional(255), CloudPass: optional(1024), CloudAddr: optional(512) }),
      // absent or empty fields keep their stored value
      run: (c, b) => c.services.clouds.update(b.Id, toInput(b.Name ?? '', b)),
      success: 'Update Cloud Connection Success.',
      data: () => null,
    }),
    ListCloudConnection: action({
      code: 'int',
      input: z.object({ Name: optional(64) }),
      run: (c, b) => c.services.clouds.list({ name: b.Name }),
      success: 'Get All Cloud Connection Success.',
      data: (list) => list.map(connectionData),
    }),
    VerifyCloudConnection: action({
      code: 'bool',
      input: z.object({ CloudType: text(32), ...connectionFields }),
      run: (c, b) => c.services.clouds.verify(toInput('', b)),
      success: 'Success.',
      data: () => null,
    }),
    ListProject: action({ code: 'int', input: akSkBody, run: (c, b) => c.services.clouds.projectsWith(akSkInput('CloudUltra 4', b)), success: 'Get All Project Success.', data: refs }),
    ListEnvironment: action({
      code: 'int',
      input: akSkBody,
      run: (c, b) => c.services.clouds.environmentsWith(akSkInput('CloudUltra 4', b), b.HypervisorType),
      success: 'Get All Environments Success.',
      data: refs,
    }),
    ListZone: action({ code: 'int', input: akSkBody, run: (c, b) => c.services.clouds.zonesWith(akSkInput('CloudUltra 4', b)), success: 'Get All Zone Success.', data: refs }),
    ListRegion: action({ code: 'int', input: akSkBody, run: (c, b) => c.services.clouds.regionsWith(akSkInput('Huayun', b)), success: 'Get All Region Success.', data: refs }),
  },
  '/MgmtTask': {
    ListVolumeTypes: action({ code: 'bool', input: cloudId, run: (c, b) => c.services.clouds.volumeTypes(b.Id), success: 'Success.', data: (types) => types.map((t) => ({ Name: t.name, ID: t.id })) }),
    ListStorages: action({ code: 'int', input: cloudId, run: (c, b) => c.services.clouds.storages(b.Id), success: 'Success.', data: (pools) => pools.map((p) => ({ Name: p.name, ID: p.id, Type: p.type })) }),
    ListFlavors: action({
      code: 'int',
      input: cloudId,
      run: (c, b) => c.services.clouds.flavors(b.Id),
      success: 'Success.',
      bare: (flavors: Flavor[]) => ({ Flavors: flavors.map((f) => ({ Name: f.name, Ram: f.ramMiB, vCPU: f.vcpus, ID: f.id, Disk: f.diskGiB })) }),
    }),
    ListNetworks: action({
      code: 'int',
      input: cloudId,
      run: (c, b) => c.services.clouds.networks(b.Id),
      success: 'Success.',
      bare: (networks: Network[]) => ({ Networks: networks.map((n) => ({ Subnets: n.subnets.map((s) => ({ Cidr: s.cidr, Id: s.id })), Name: n.name, Id: n.id })) }),
    }),
    ListSecurityGroups: action({
      code: 'int',
      input: cloudId,
      run: (c, b) => c.services.clouds.securityGroups(b.Id),
      success: 'Success.',
      bare: (groups: NamedRef[]) => ({ SecurityGroup: groups.map((g) => ({ Name: g.name, ID: g.id })) }),
    }),
    ListQuota: action({
      code: 'int',
      input: cloudId,
      run: (c, b) => c.services.clouds.quota(b.Id),
      success: '信息获取成功',
      // what is left, as the original showed it: CPUs, and memory and disk in GB
      data: (q: Quota) => ({ CPU: left(q.cores), Memory: Math.floor(left(q.ramMiB) / 1024), Disk: left(q.volumeGiB) }),
    }),
  },
};

/** What remains of a quota; an unlimited one (-1) shows as -1. */
function left(item: { limit: number; used: number }): number {
  return item.limit < 0 ? -1 : Math.max(0, item.limit - item.used);
}
