import type { EntityManager } from '@mikro-orm/postgresql';
import { Task, TaskVolume } from '../../../entities/index.js';
import type { CloudDriver } from '../../drivers/cloud/index.js';
import { fromCloud } from '../clouds/cloud-errors.js';
import { fail, ok, type Result } from '../errors.js';
import type { InstanceSpec } from './task-input.js';

/**
 * Names the migrated server and its volumes would take, checked against the cloud and against
 * the other tasks of the same cloud (whose resources may not exist yet): the legacy API answers
 * `Code` 1 (server name) or 2 (volume names) with the names in `Repeated`.
 */
export async function checkNamesFree(
  em: EntityManager,
  cloud: CloudDriver,
  cloudId: string,
  names: { serverName?: string; volumeNames: string[] },
  exceptTaskId?: string,
): Promise<Result<null>> {
  const others = { cloud: cloudId, ...(exceptTaskId ? { id: { $ne: exceptTaskId } } : {}) };
  if (names.serverName) {
    const inTask = await em.count(Task, { ...others, targetServerName: names.serverName });
    const inCloud = inTask > 0 ? ok(true) : await fromCloud(() => cloud.serverNameTaken(names.serverName!));
    if (!inCloud.ok) return inCloud;
    if (inCloud.value) return fail('CONFLICT', `A server named "${names.serverName}" already exists in the cloud${inTask ? ' (or is the target of another task)' : ''}; choose another TargetServerName.`, 'TargetServerName', { legacyCode: 1, repeated: [names.serverName] });
  }
  const taken: string[] = [];
  for (const name of names.volumeNames) {
    const inTask = await em.count(TaskVolume, { cloudVolumeName: name, task: others });
    const inCloud = inTask > 0 ? ok(true) : await fromCloud(() => cloud.volumeNameTaken(name));
    if (!inCloud.ok) return inCloud;
    if (inCloud.value) taken.push(name);
  }
  if (taken.length) return fail('CONFLICT', `Cloud volume name${taken.length === 1 ? '' : 's'} ${taken.map((n) => `"${n}"`).join(', ')} already taken in the cloud; choose others in CloudVolumeName.`, 'CloudVolumeName', { legacyCode: 2, repeated: taken });
  return ok(null);
}

/** The cloud's own ids for what the task names: each must exist (a volume type may be given by name). */
export async function resolveCloudRefs(cloud: CloudDriver, spec: InstanceSpec, volumeTypes: (string | undefined)[]): Promise<Result<{ volumeTypeIds: (string | undefined)[]; securityGroupId?: string }>> {
  const looked = await fromCloud(async () => ({
    types: volumeTypes.some(Boolean) ? await cloud.volumeTypes() : [],
    flavors: spec.flavorId ? await cloud.flavors() : [],
    networks: spec.networkId ? await cloud.networks() : [],
    groups: spec.securityGroupId ? await cloud.securityGroups() : [],
  }));
  if (!looked.ok) return looked;
  const { types, flavors, networks, groups } = looked.value;
  const volumeTypeIds: (string | undefined)[] = [];
  for (const wanted of volumeTypes) {
    if (!wanted) {
      volumeTypeIds.push(undefined);
      continue;
    }
    const type = types.find((t) => t.id === wanted) ?? types.find((t) => t.name === wanted);
    if (!type) return fail('INVALID_INPUT', `VolumeType "${wanted}" is not a volume type of the cloud (it has ${types.map((t) => `"${t.name}"`).join(', ') || 'none'}).`, 'VolumeType');
    volumeTypeIds.push(type.id);
  }
  if (spec.flavorId && !flavors.some((f) => f.id === spec.flavorId)) return fail('INVALID_INPUT', `FlavorId "${spec.flavorId}" is not a flavor of the cloud.`, 'FlavorId');
  if (spec.networkId) {
    const network = networks.find((n) => n.id === spec.networkId);
    if (!network) return fail('INVALID_INPUT', `NetworkId "${spec.networkId}" is not a network of the cloud.`, 'NetworkId');
    if (spec.subnetId && !network.subnets.some((s) => s.id === spec.subnetId)) return fail('INVALID_INPUT', `SubnetId "${spec.subnetId}" is not a subnet of network "${network.name}".`, 'SubnetId');
  }
  const group = spec.securityGroupId ? groups.find((g) => g.id === spec.securityGroupId) ?? groups.find((g) => g.name === spec.securityGroupId) : undefined;
  if (spec.securityGroupId && !group) return fail('INVALID_INPUT', `SecurityGroupId "${spec.securityGroupId}" is not a security group of the cloud.`, 'SecurityGroupId');
  return ok({ volumeTypeIds, securityGroupId: group?.id });
}
