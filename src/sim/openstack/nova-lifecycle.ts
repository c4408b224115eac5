import { DELAYS, type Server, type SimState } from './state.js';
import { removeFile } from './volume-files.js';

/**
 * What Nova gives back when a server is deleted or its build is aborted: the ports it made are
 * deleted, ports it was given are unbound, volumes are detached (deleted when the block device
 * mapping said delete_on_termination).
 */
export function releaseServerResources(state: SimState, server: Server): void {
  for (const portId of server.portIds) {
    const port = state.ports.get(portId);
    if (!port) continue;
    if (port.ownedByServer) {
      state.ports.delete(port.id);
    } else {
      port.deviceId = '';
      port.deviceOwner = '';
      port.status = 'DOWN';
      port.updatedAt = new Date();
    }
  }
  server.portIds = [];
  for (const { volume, attachment } of state.serverVolumes(server.id)) {
    volume.attachments = volume.attachments.filter((a) => a !== attachment);
    volume.updatedAt = new Date();
    if (!attachment.deleteOnTermination) {
      volume.status = 'available';
      continue;
    }
    volume.status = 'deleting';
    state.later(DELAYS.volumeDelete, async () => {
      await removeFile(state.volumeFile(volume.id));
      state.volumes.delete(volume.id);
    });
  }
}
