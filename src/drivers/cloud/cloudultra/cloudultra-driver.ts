import { CloudError, type CloudUltraSettings, type CreateServerInput, type DriverOptions, type NamedRef } from '../cloud-driver.js';
import { fetchOne, listAll } from '../signed-api/answers.js';
import { enc, SignedApiDriver, type SignedApiWire } from '../signed-api/signed-api-driver.js';
import type { QueryValues } from '../signed-api/signed-client.js';
import * as m from './cloudultra-models.js';

/** CloudUltra 4 through its APIMgntURL, AK/SK, scoped to an owner (project) and a zone: the contract in docs/clouds/cloudultra.md. */
export class CloudUltraDriver extends SignedApiDriver {
  readonly type = 'CloudUltra 4' as const;
  protected readonly wire: SignedApiWire = {
    flavor: m.flavor.transform(m.toFlavor),
    networks: { call: 'list networks', path: '/networks', key: 'Networks', item: m.network.transform(m.toNetwork) },
    quota: m.quota.transform(m.toQuota),
    server: m.server.transform(m.toServer),
    ipsInUse: (networkId) => ({ call: `list the IPs of network ${networkId}`, path: `/networks/${enc(networkId)}/ips`, key: 'Ips' }),
    attachments: 'volumes',
  };

  constructor(
    private readonly settings: CloudUltraSettings,
    options: DriverOptions,
  ) {
    super(options, `${settings.apiUrl.replace(/\/+$/, '')}/v4`, settings);
  }

  async verify(): Promise<void> {
    const { ownerId, environmentId, zoneId } = this.settings;
    await fetchOne(this.api, this.cloud, 'check the AccessKey and SecretKey', 'GET', '/whoami', 'User', m.user);
    if (!ownerId && !environmentId && !zoneId) return;
    // 404 for an owner or environment that does not exist, 403 for an owner the key may not use
    const zones = await this.zones();
    if (zoneId && !zones.some((zn) => zn.id === zoneId)) {
      const within = [environmentId && `environment ${environmentId}`, ownerId && `project ${ownerId}`].filter(Boolean).join(' for ');
      throw new CloudError('not-found', this.cloud, 'check the zone', `zone ${zoneId} is not among the zones${within ? ` of ${within}` : ''}`);
    }
    if (ownerId && zoneId) await this.one(`check project ${ownerId} in zone ${zoneId}`, 'GET', '/quota', 'Quota', m.quota);
  }

  override async projects(): Promise<NamedRef[]> {
    return (await listAll(this.api, this.cloud, 'list projects', '/owners', 'Owners', m.owner)).map(m.toOwner);
  }

  override async environments(): Promise<NamedRef[]> {
    return (await listAll(this.api, this.cloud, 'list environments', '/environments', 'Environments', m.environment)).map(m.toEnvironment);
  }

  override async zones(): Promise<NamedRef[]> {
    const query = { EnvironmentId: this.settings.environmentId, OwnerId: this.settings.ownerId };
    return (await listAll(this.api, this.cloud, 'list zones', '/zones', 'Zones', m.zone, query)).map(m.toZone);
  }

  /** A flavor, or custom vCPUs + memory (CloudUltra boots any size). */
  protected async serverBody(call: string, input: CreateServerInput): Promise<Record<string, unknown>> {
    if (!input.flavorId && !(input.vcpus && input.ramMiB)) throw new CloudError('bad-request', this.cloud, call, 'give a flavor, or vCPUs and memory');
    return {
      Name: input.name,
      ...(input.flavorId ? { FlavorId: input.flavorId } : { Cpu: input.vcpus, MemoryMiB: input.ramMiB }),
      Volumes: input.volumeIds,
      NetworkId: input.networkId,
      SubnetId: input.subnetId,
      FixedIp: input.fixedIp,
      SecurityGroupId: input.securityGroupId,
    };
  }

  /** OwnerId and ZoneId, which every call on a project's resources carries. */
  protected scope(call: string): QueryValues {
    const { ownerId, zoneId } = this.settings;
    if (!ownerId) throw new CloudError('bad-request', this.cloud, call, 'the connection names no project (OwnerId): choose one first');
    if (!zoneId) throw new CloudError('bad-request', this.cloud, call, 'the connection names no zone (ZoneId): choose one first');
    return { OwnerId: ownerId, ZoneId: zoneId };
  }
}
