import { badRequest, conflict, notFound } from './errors.js';
import { newId } from './ids.js';
import { objectAt, parseBool, stringAt } from './input.js';
import { atLeast } from './microversion.js';
import { findServer } from './nova-servers.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';
import { DELAYS, type Server, type Volume, type VolumeAttachment } from './state.js';

/**
 * Nova volume attachments. The device a volume appears as is its file, so that whatever
 * "runs on the server" (Ferry's transport) writes real bytes into the simulated volume.
 */

export const novaAttachmentRoutes: Route[] = [
  route('GET', '/v2.1/servers/:id/os-volume_attachments', (req) => {
    const server = findServer(req, req.params.id);
    return { status: 200, body: { volumeAttachments: req.state.serverVolumes(server.id).map(({ volume, attachment }) => attachmentView(req, server, volume, attachment)) } };
  }),
  route('GET', '/v2.1/servers/:id/os-volume_attachments/:volumeId', (req) => {
    const server = findServer(req, req.params.id);
    const { volume, attachment } = attachmentOf(req, server, req.params.volumeId);
    return { status: 200, body: { volumeAttachment: attachmentView(req, server, volume, attachment) } };
  }),
  route('POST', '/v2.1/servers/:id/os-volume_attachments', attachVolume),
  route('DELETE', '/v2.1/servers/:id/os-volume_attachments/:volumeId', detachVolume),
];

function attachmentView(req: SimRequest, server: Server, volume: Volume, a: VolumeAttachment) {
  return {
    device: a.device,
    ...(!atLeast(req.version, 2, 89) && { id: volume.id }),
    serverId: server.id,
    volumeId: volume.id,
    ...(atLeast(req.version, 2, 70) && { tag: null }),
    ...(atLeast(req.version, 2, 79) && { delete_on_termination: a.deleteOnTermination }),
    ...(atLeast(req.version, 2, 89) && { attachment_id: a.id, bdm_uuid: a.id }),
  };
}

function attachmentOf(req: SimRequest, server: Server, volumeId: string) {
  const found = req.state.serverVolumes(server.id).find(({ volume }) => volume.id === volumeId);
  if (!found) throw notFound(`Volume ${volumeId} is not attached to the instance ${server.id}.`);
  return found;
}

const ATTACHABLE_VM_STATES = ['active', 'stopped', 'paused', 'suspended', 'shelved', 'shelved_offloaded', 'resized', 'soft-delete'];

function attachVolume(req: SimRequest): Reply {
  const server = findServer(req, req.params.id);
  const body = objectAt(req.body, 'volumeAttachment');
  const volumeId = stringAt(body, 'volumeId');
  if (!body || !volumeId) throw badRequest("Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property");
  if (!ATTACHABLE_VM_STATES.includes(server.vmState)) throw conflict(`Cannot 'attach_volume' instance ${server.id} while it is in vm_state ${server.vmState}`);
  const volume = req.state.volumes.get(volumeId);
  if (!volume) throw notFound(`Volume ${volumeId} could not be found.`);
  if (volume.status !== 'available') {
    throw badRequest(`Invalid input received: Invalid volume: Volume ${volume.id} status must be available or downloading to reserve, but the current status is ${volume.status}. (HTTP 400)`);
  }
  const attachment: VolumeAttachment = {
    id: newId(),
    serverId: server.id,
    device: req.state.volumeFile(volume.id),
    attachedAt: new Date(),
    deleteOnTermination: atLeast(req.version, 2, 79) ? (parseBool(body.delete_on_termination) ?? false) : false,
  };
  volume.attachments.push(attachment);
  volume.status = 'attaching';
  volume.updatedAt = new Date();
  req.state.later(DELAYS.attach, () => {
    if (volume.status !== 'attaching') return;
    volume.status = 'in-use';
    volume.updatedAt = new Date();
  });
  return { status: 200, body: { volumeAttachment: attachmentView(req, server, volume, attachment) } };
}

function detachVolume(req: SimRequest): Reply {
  const server = findServer(req, req.params.id);
  const { volume, attachment } = attachmentOf(req, server, req.params.volumeId);
  if (!ATTACHABLE_VM_STATES.includes(server.vmState)) throw conflict(`Cannot 'detach_volume' instance ${server.id} while it is in vm_state ${server.vmState}`);
  if (attachment.bootIndex === 0) throw badRequest('Cannot detach a root device volume');
  if (volume.status !== 'in-use') throw badRequest(`Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.`);
  volume.status = 'detaching';
  volume.updatedAt = new Date();
  req.state.later(DELAYS.attach, () => {
    volume.attachments = volume.attachments.filter((a) => a !== attachment);
    volume.status = volume.attachments.length ? 'in-use' : 'available';
    volume.updatedAt = new Date();
  });
  return { status: 202 };
}
