import { notFound } from '../signed-api/api-error.js';
import { readBody } from '../signed-api/body.js';
import type { CloudState } from '../signed-api/cloud-state.js';
import { page } from '../signed-api/paging.js';
import type { Query } from '../signed-api/query.js';
import { accepted, del, get, noContent, post, type Route } from '../signed-api/router.js';
import { createServer, deleteServer } from '../signed-api/server-ops.js';
import { createSnapshot, deleteSnapshot } from '../signed-api/snapshot-ops.js';
import { attachVolume, createVolume, deleteVolume, detachVolume } from '../signed-api/volume-ops.js';
import * as b from './bodies.js';
import { ownerOf, scopeOf } from './scope.js';
import type { CloudUltraWorld } from './seed.js';
import * as v from './views.js';

/** The CloudUltra 4 API of docs/clouds/cloudultra.md, under <APIMgntURL>/v4 (the simulator's APIMgntURL ends in /api). */
export function cloudUltraRoutes(state: CloudState, world: CloudUltraWorld, accessKey: string): Route[] {
  const scope = (query: Query) => scopeOf(world, query);
  const catalog = (query: Query) => scope(query).catalog;
  const p = (path: string) => `/api/v4${path}`;

  return [
    get(p('/whoami'), () => ({ User: { UserId: world.user.id, UserName: world.user.name, AccessKey: accessKey } })),
    get(p('/owners'), ({ query }) => page(query, 'Owners', world.owners.filter((o) => o.mine).map(v.ownerView))),
    get(p('/environments'), ({ query }) => {
      const hypervisor = query.get('HypervisorType');
      return page(query, 'Environments', world.environments.filter((e) => hypervisor === undefined || e.hypervisor === hypervisor).map(v.environmentView));
    }),
    get(p('/zones'), ({ query }) => {
      const [environmentId, ownerId] = [query.get('EnvironmentId'), query.get('OwnerId')];
      if (environmentId !== undefined && !world.environments.some((e) => e.id === environmentId)) throw notFound(`environment ${environmentId} does not exist`);
      if (ownerId !== undefined) ownerOf(world, ownerId);
      const zones = world.zones.filter((z) => (environmentId === undefined || z.environmentId === environmentId) && (ownerId === undefined || z.ownerIds.includes(ownerId)));
      return page(query, 'Zones', zones.map(v.zoneView));
    }),
    get(p('/flavors'), ({ query }) => page(query, 'Flavors', catalog(query).flavors.map(v.flavorView))),
    get(p('/networks'), ({ query }) => page(query, 'Networks', catalog(query).networks.map(v.networkView))),
    get(p('/networks/:id/ips'), ({ query, params }) => {
      const network = catalog(query).networks.find((n) => n.id === params.id);
      if (!network) throw notFound(`network ${params.id} does not exist`);
      return page(query, 'Ips', v.ipViews(state, scope(query), network));
    }),
    get(p('/security-groups'), ({ query }) => page(query, 'SecurityGroups', catalog(query).securityGroups.map(v.securityGroupView))),
    get(p('/volume-types'), ({ query }) => {
      const storageId = query.get('StorageId');
      return page(query, 'VolumeTypes', catalog(query).volumeTypes.filter((t) => storageId === undefined || t.storageId === storageId).map(v.volumeTypeView));
    }),
    get(p('/storages'), ({ query }) => page(query, 'Storages', catalog(query).storages.map(v.storageView(state, scope(query))))),
    get(p('/quota'), ({ query }) => ({ Quota: v.quotaView(state, scope(query)) })),

    get(p('/volumes'), ({ query }) => {
      const [name, status] = [query.get('Name'), query.get('Status')];
      const volumes = state.inScope(state.volumes, scope(query)).filter((x) => (name === undefined || x.name === name) && (status === undefined || x.status === status));
      return page(query, 'Volumes', volumes.map(v.volumeView));
    }),
    post(p('/volumes'), async ({ query, body }) => {
      const input = readBody(b.createVolumeBody, body);
      const volume = await createVolume(state, scope(query), { name: input.Name, sizeGiB: input.SizeGiB, volumeTypeId: input.VolumeTypeId, bootable: input.Bootable ?? false });
      return accepted({ Volume: v.volumeView(volume) });
    }),
    get(p('/volumes/:id'), ({ query, params }) => ({ Volume: v.volumeView(state.volume(scope(query), params.id)) })),
    del(p('/volumes/:id'), async ({ query, params }) => {
      await deleteVolume(state, scope(query), params.id);
      return noContent();
    }),

    get(p('/snapshots'), ({ query }) => {
      const [volumeId, name] = [query.get('VolumeId'), query.get('Name')];
      const snapshots = state.inScope(state.snapshots, scope(query)).filter((s) => (volumeId === undefined || s.volumeId === volumeId) && (name === undefined || s.name === name));
      return page(query, 'Snapshots', snapshots.map(v.snapshotView));
    }),
    post(p('/snapshots'), ({ query, body }) => {
      const input = readBody(b.createSnapshotBody, body);
      return accepted({ Snapshot: v.snapshotView(createSnapshot(state, scope(query), input.VolumeId, input.Name)) });
    }),
    get(p('/snapshots/:id'), ({ query, params }) => ({ Snapshot: v.snapshotView(state.snapshot(scope(query), params.id)) })),
    del(p('/snapshots/:id'), ({ query, params }) => {
      deleteSnapshot(state, scope(query), params.id);
      return noContent();
    }),

    get(p('/servers'), ({ query }) => {
      const name = query.get('Name');
      const servers = state.inScope(state.servers, scope(query)).filter((s) => name === undefined || s.name === name);
      return page(query, 'Servers', servers.map((s) => v.serverView(state, s)));
    }),
    post(p('/servers'), ({ query, body }) => {
      const i = readBody(b.createServerBody, body);
      const server = createServer(state, scope(query), {
        name: i.Name,
        flavorId: i.FlavorId,
        vcpus: i.Cpu,
        sockets: i.Sockets,
        ramMiB: i.MemoryMiB,
        volumeIds: i.Volumes,
        networkId: i.NetworkId,
        subnetId: i.SubnetId,
        fixedIp: i.FixedIp,
        securityGroupId: i.SecurityGroupId,
      });
      return accepted({ Server: v.serverView(state, server) });
    }),
    get(p('/servers/:id'), ({ query, params }) => ({ Server: v.serverView(state, state.server(scope(query), params.id)) })),
    del(p('/servers/:id'), ({ query, params }) => {
      deleteServer(state, scope(query), params.id);
      return noContent();
    }),
    post(p('/servers/:id/volumes'), ({ query, params, body }) => {
      const { VolumeId } = readBody(b.attachBody, body);
      const volume = attachVolume(state, scope(query), params.id, VolumeId);
      return { Attachment: { ServerId: params.id, VolumeId, Device: volume.attachment!.device } };
    }),
    del(p('/servers/:id/volumes/:volumeId'), ({ query, params }) => {
      detachVolume(state, scope(query), params.id, params.volumeId);
      return noContent();
    }),
  ];
}
