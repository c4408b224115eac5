import { CloudError, type CreateServerInput, type DriverOptions, type HuayunSettings, type NamedRef } from '../cloud-driver.js';
import { fetchOne, listAll } from '../signed-api/answers.js';
import { enc, SignedApiDriver, type SignedApiWire } from '../signed-api/signed-api-driver.js';
import type { QueryValues } from '../signed-api/signed-client.js';
import * as m from './huayun-models.js';

/** Huayun's extras when booting: a public IP of `bandwidthMbps` through router `routerId`. */
export interface HuayunServerInput extends CreateServerInput {
  routerId?: string;
  bandwidthMbps?: number;
}

export interface HuayunRouter extends NamedRef {
  networkId: string;
  externalGateway: boolean;
}

/** Huayun public cloud, AK/SK, per region: the contract in docs/clouds/huayun.md. */
export class HuayunDriver extends SignedApiDriver<HuayunServerInput> {
  readonly type = 'Huayun' as const;
  protected readonly wire: SignedApiWire = {
    flavor: m.flavor.transform(m.toFlavor),
    networks: { call: 'list VPCs', path: '/vpcs', key: 'Vpcs', item: m.vpc.transform(m.toNetwork) },
    quota: m.quota.transform(m.toQuota),
    server: m.server.transform(m.toServer),
    ipsInUse: (vpcId) => ({ call: `list the private IPs of VPC ${vpcId}`, path: `/vpcs/${enc(vpcId)}/private-ips`, key: 'PrivateIps' }),
    attachments: 'volume-attachments',
  };

  constructor(
    private readonly settings: HuayunSettings,
    options: DriverOptions,
  ) {
    super(options, `${settings.endpoint.replace(/\/+$/, '')}/v1`, settings);
  }

  async verify(): Promise<void> {
    await fetchOne(this.api, this.cloud, 'check the AccessKey and SecretKey', 'GET', '/account', 'Account', m.account);
    // the region's quota: 404 for a region that does not exist, 403 for one the account may not use
    if (this.settings.regionId) await this.one(`check region ${this.settings.regionId}`, 'GET', '/quota', 'Quota', m.quota);
  }

  override async regions(): Promise<NamedRef[]> {
    return (await listAll(this.api, this.cloud, 'list regions', '/regions', 'Regions', m.region)).map(m.toRegion);
  }

  /** Routers (Huayun only): a server's public IP goes out through one with an external gateway. */
  async routers(): Promise<HuayunRouter[]> {
    const routers = await this.list('list routers', '/routers', 'Routers', m.router);
    return routers.map((r) => ({ id: r.RouterId, name: r.Name, networkId: r.VpcId, externalGateway: r.ExternalGateway }));
  }

  protected async serverBody(call: string, input: HuayunServerInput): Promise<Record<string, unknown>> {
    return {
      Name: input.name,
      FlavorId: input.flavorId ?? (await this.flavorFor(call, input)),
      Volumes: input.volumeIds,
      VpcId: input.networkId,
      SubnetId: input.subnetId,
      FixedIp: input.fixedIp,
      SecurityGroupId: input.securityGroupId,
      RouterId: input.routerId,
      BandwidthMbps: input.bandwidthMbps,
    };
  }

  /** Huayun boots only its own flavors: the one matching vcpus + ramMiB. */
  private async flavorFor(call: string, input: CreateServerInput): Promise<string> {
    if (!input.vcpus || !input.ramMiB) throw new CloudError('bad-request', this.cloud, call, 'give a flavor, or vCPUs and memory');
    const found = m.pickFlavor(await this.list('list flavors', '/flavors', 'Flavors', m.flavor), input.vcpus, input.ramMiB);
    if (!found) throw new CloudError('bad-request', this.cloud, call, `no flavor has ${input.vcpus} vCPUs and ${input.ramMiB} MiB of memory or more`);
    return found.FlavorId;
  }

  /** RegionId, which every call but /account and /regions carries. */
  protected scope(call: string): QueryValues {
    if (!this.settings.regionId) throw new CloudError('bad-request', this.cloud, call, 'the connection names no region (RegionId): choose one of its regions first');
    return { RegionId: this.settings.regionId };
  }
}
