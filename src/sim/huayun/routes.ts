import { accessDenied, notFound } from '../signed-api/api-error.js';
import { readBody } from '../signed-api/body.js';
import type { CloudState } from '../signed-api/cloud-state.js';
import { page } from '../signed-api/paging.js';
import type { Query } from '../signed-api/query.js';
import { accepted, del, get, noContent, post, type Route } from '../signed-api/router.js';
import { createServer, deleteServer } from '../signed-api/server-ops.js';
import { createSnapshot, deleteSnapshot } from '../signed-api/snapshot-ops.js';
import { attachVolume, createVolume, deleteVolume, detachVolume } from '../signed-api/volume-ops.js';
import * as b from './bodies.js';
import type { HuayunWorld } from './seed.js';
import * as v from './views.js';

/** The Huayun API of docs/clouds/huayun.md, under /v1. */
export function huayunRoutes(state: CloudState, world: HuayunWorld, accessKey: string): Route[] {
  /** RegionId: required, existing (404), enabled for the account (403). */
  const scopeOf = (query: Query) => {
    const id = query.require('RegionId');
    const region = world.regions.find((r) => r.id === id);
    if (!region) throw notFound(`region ${id} does not exist`);
    if (!region.enabled) throw accessDenied(`the account is not enabled in region ${id}`);
    return region.scope;
  };
  const vpcOf = (query: Query, vpcId: string) => {
    const vpc = scopeOf(query).catalog.networks.find((n) => n.id === vpcId);
    if (!vpc) throw notFound(`VPC ${vpcId} does not exist`);
    return vpc;
  };
  const catalog = (query: Query) => scopeOf(query).catalog;

  return [
    get('/v1/account', () => ({ Account: { AccountId: world.account.id, AccountName: world.account.name, AccessKey: accessKey } })),
    get('/v1/regions', ({ query }) => page(query, 'Regions', world.regions.map(v.regionView))),
    get('/v1/flavors', ({ query }) => page(query, 'Flavors', catalog(query).flavors.map(v.flavorView))),
    get('/v1/vpcs', ({ query }) => page(query, 'Vpcs', catalog(query).networks.map(v.vpcView))),
    get('/v1/vpcs/:id/private-ips', ({ query, params }) => page(query, 'PrivateIps', v.privateIpViews(state, scopeOf(query), vpcOf(query, params.id)))),
    get('/v1/routers', ({ query }) => page(query, 'Routers', catalog(query).routers.map(v.routerView))),
    get('/v1/security-groups', ({ query }) => page(query, 'SecurityGroups', catalog(query).securityGroups.map(v.securityGroupView))),
    get('/v1/volume-types', ({ query }) => page(query, 'VolumeTypes', catalog(query).volumeTypes.map(v.volumeTypeView))),
    get('/v1/storages', ({ query }) => page(query, 'Storages', catalog(query).storages.map(v.storageView(state, scopeOf(query))))),
    get('/v1/quota', ({ query }) => ({ Quota: v.quotaView(state, scopeOf(query)) })),

    get('/v1/volumes', ({ query }) => {
      const [name, status] = [query.get('Name'), query.get('Status')];
      const volumes = state.inScope(state.volumes, scopeOf(query)).filter((x) => (name === undefined || x.name === name) && (status === undefined || x.status === status));
      return page(query, 'Volumes', volumes.map(v.volumeView));
    }),
    post('/v1/volumes', async ({ query, body }) => {
      const input = readBody(b.createVolumeBody, body);
      const volume = await createVolume(state, scopeOf(query), { name: input.Name, sizeGiB: input.SizeGiB, volumeTypeId: input.VolumeTypeId, bootable: input.Bootable ?? false });
      return accepted({ Volume: v.volumeView(volume) });
    }),
    get('/v1/volumes/:id', ({ query, params }) => ({ Volume: v.volumeView(state.volume(scopeOf(query), params.id)) })),
    del('/v1/volumes/:id', async ({ query, params }) => {
      await deleteVolume(state, scopeOf(query), params.id);
      return noContent();
    }),

    get('/v1/snapshots', ({ query }) => {
      const [volumeId, name] = [query.get('VolumeId'), query.get('Name')];
      const snapshots = state.inScope(state.snapshots, scopeOf(query)).filter((s) => (volumeId === undefined || s.volumeId === volumeId) && (name === undefined || s.name === name));
      return page(query, 'Snapshots', snapshots.map(v.snapshotView));
    }),
    post('/v1/snapshots', ({ query, body }) => {
      const input = readBody(b.createSnapshotBody, body);
      return accepted({ Snapshot: v.snapshotView(createSnapshot(state, scopeOf(query), input.VolumeId, input.Name)) });
    }),
    get('/v1/snapshots/:id', ({ query, params }) => ({ Snapshot: v.snapshotView(state.snapshot(scopeOf(query), params.id)) })),
    del('/v1/snapshots/:id', ({ query, params }) => {
      deleteSnapshot(state, scopeOf(query), params.id);
      return noContent();
    }),

    get('/v1/servers', ({ query }) => {
      const name = query.get('Name');
      const servers = state.inScope(state.servers, scopeOf(query)).filter((s) => name === undefined || s.name === name);
      return page(query, 'Servers', servers.map((s) => v.serverView(state, s)));
    }),
    post('/v1/servers', ({ query, body }) => {
      const i = readBody(b.createServerBody, body);
      const server = createServer(state, scopeOf(query), {
        name: i.Name,
        flavorId: i.FlavorId,
        volumeIds: i.Volumes,
        networkId: i.VpcId,
        subnetId: i.SubnetId,
        fixedIp: i.FixedIp,
        securityGroupId: i.SecurityGroupId,
        routerId: i.RouterId,
        bandwidthMbps: i.BandwidthMbps,
      });
      return accepted({ Server: v.serverView(state, server) });
    }),
    get('/v1/servers/:id', ({ query, params }) => ({ Server: v.serverView(state, state.server(scopeOf(query), params.id)) })),
    del('/v1/servers/:id', ({ query, params }) => {
      deleteServer(state, scopeOf(query), params.id);
      return noContent();
    }),
    post('/v1/servers/:id/volume-attachments', ({ query, params, body }) => {
      const { VolumeId } = readBody(b.attachBody, body);
      const volume = attachVolume(state, scopeOf(query), params.id, VolumeId);
      return { Attachment: { ServerId: params.id, VolumeId, Device: volume.attachment!.device } };
    }),
    del('/v1/servers/:id/volume-attachments/:volumeId', ({ query, params }) => {
      detachVolume(state, scopeOf(query), params.id, params.volumeId);
      return noContent();
    }),
  ];
}
