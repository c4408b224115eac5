import type { ServiceDeps } from './context.js';
import { AuthService } from './auth/auth-service.js';
import { LicenseService } from './license/license-service.js';
import { CloudService } from './clouds/cloud-service.js';
import { TransportService } from './transports/transport-service.js';
import { HostService } from './hosts/host-service.js';
import { TaskService } from './tasks/task-service.js';
import { VSphereService } from './vsphere/vsphere-service.js';
import { VSphereReads } from './vsphere/vsphere-reads.js';
import { VmDiskSources } from './vsphere/vm-disk-sources.js';

/** The domain services: the one place where business rules live. REST and GraphQL both call these. */
export interface Services {
  auth: AuthService;
  license: LicenseService;
  clouds: CloudService;
  transports: TransportService;
  hosts: HostService;
  tasks: TaskService;
  vsphere: VSphereService;
  /** batch reads of the stored vSphere trees (GraphQL loaders) */
  vsphereReads: VSphereReads;
  /** vSphere VMs' disks for agentless copies (snapshots, datastore tickets) */
  vmDisks: VmDiskSources;
}

export function createServices(deps: ServiceDeps): Services {
  const transports = new TransportService(deps);
  const clouds = new CloudService(deps);
  const vmDisks = new VmDiskSources(deps);
  return {
    auth: new AuthService(deps),
    license: new LicenseService(deps),
    clouds,
    transports,
    hosts: new HostService(deps, transports),
    tasks: new TaskService(deps, clouds, transports, vmDisks),
    vsphere: new VSphereService(deps, transports),
    vsphereReads: new VSphereReads(deps.orm),
    vmDisks,
  };
}

export type { AuthInfo, ServiceDeps } from './context.js';
export type { Result, ServiceError, ErrorCode } from './errors.js';
