import path from 'node:path';

/** The simulated cloud, in memory (only volume and snapshot contents live on disk). */

export interface Project {
  id: string;
  name: string;
  domainId: string;
  description: string;
}

export interface User {
  id: string;
  name: string;
  password: string;
  domainId: string;
  roles: Role[];
  defaultProjectId: string;
}

export interface Role {
  id: string;
  name: string;
}

export interface Token {
  id: string;
  userId: string;
  /** undefined for an unscoped token */
  projectId?: string;
  roles: Role[];
  methods: string[];
  auditId: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ramMiB: number;
  diskGiB: number;
  ephemeralGiB: number;
  swapMiB: number;
  rxtxFactor: number;
  isPublic: boolean;
  description: string | null;
}

export interface Network {
  id: string;
  name: string;
  external: boolean;
  shared: boolean;
  mtu: number;
  projectId: string;
  createdAt: Date;
}

export interface Subnet {
  id: string;
  name: string;
  networkId: string;
  cidr: string;
  gatewayIp: string;
  allocationPool: { start: string; end: string };
  projectId: string;
  createdAt: Date;
}

export interface Port {
  id: string;
  name: string;
  networkId: string;
  fixedIps: { subnet_id: string; ip_address: string }[];
  macAddress: string;
  deviceId: string;
  deviceOwner: string;
  securityGroupIds: string[];
  status: 'ACTIVE' | 'DOWN';
  projectId: string;
  createdAt: Date;
  updatedAt: Date;
  /** made by Nova when booting a server (deleted with it), not given to Nova by the user */
  ownedByServer?: boolean;
}

export interface SecurityGroupRule {
  id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  portMin: number | null;
  portMax: number | null;
  remoteIpPrefix: string | null;
  remoteGroupId: string | null;
}

export interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  rules: SecurityGroupRule[];
  projectId: string;
  createdAt: Date;
}

export interface VolumeType {
  id: string;
  name: string;
  description: string | null;
  /** extra spec volume_backend_name; none for __DEFAULT__ */
  backend?: string;
}

export interface Pool {
  /** host@backend#pool */
  name: string;
  backend: string;
  totalGiB: number;
  protocol: string;
}

export interface VolumeAttachment {
  /** Cinder's attachment id */
  id: string;
  serverId: string;
  /** the volume's file: where the "server" sees it */
  device: string;
  attachedAt: Date;
  deleteOnTermination: boolean;
  /** 0 for the boot volume */
  bootIndex?: number;
}

export interface Volume {
  id: string;
  name: string | null;
  description: string | null;
  sizeGiB: number;
  status: string;
  typeId: string;
  availabilityZone: string;
  bootable: boolean;
  /** the pool it was placed on */
  host: string;
  attachments: VolumeAttachment[];
  metadata: Record<string, string>;
  projectId: string;
  userId: string;
  createdAt: Date;
  updatedAt: Date | null;
}

export interface Snapshot {
  id: string;
  name: string | null;
  description: string | null;
  volumeId: string;
  sizeGiB: number;
  status: string;
  progress: string;
  metadata: Record<string, string>;
  projectId: string;
  userId: string;
  createdAt: Date;
  updatedAt: Date | null;
}

export interface ServerFault {
  code: number;
  message: string;
  created: Date;
}

export interface Server {
  id: string;
  name: string;
  status: 'BUILD' | 'ACTIVE' | 'ERROR' | 'SHUTOFF';
  vmState: string;
  taskState: string | null;
  powerState: number;
  flavorId: string;
  /** undefined when booted from a volume */
  imageId?: string;
  availabilityZone: string;
  portIds: string[];
  securityGroups: string[];
  metadata: Record<string, string>;
  instanceName: string;
  projectId: string;
  userId: string;
  createdAt: Date;
  updatedAt: Date;
  launchedAt: Date | null;
  fault?: ServerFault;
}

export interface ComputeQuota {
  cores: number;
  ramMiB: number;
  instances: number;
}

export interface VolumeQuota {
  volumes: number;
  gigabytes: number;
  snapshots: number;
}

export interface SimOptions {
  /** volumes/ and snapshots/ live here */
  dir: string;
  tokenTtlSeconds: number;
  /** http://HOST:PORT, the root of every catalog URL */
  publicUrl: string;
  /** vCPUs of the one compute host: a build that does not fit goes to ERROR (NoValidHost) */
  hostVcpus?: number;
}

/** How long the simulated cloud takes to do things, in ms. */
export const DELAYS = { volumeCreate: 300, volumeDelete: 200, snapshot: 200, attach: 200, serverBuild: 1000 };

export class SimState {
  readonly projects = new Map<string, Project>();
  readonly users = new Map<string, User>();
  readonly tokens = new Map<string, Token>();
  readonly flavors = new Map<string, Flavor>();
  readonly networks = new Map<string, Network>();
  readonly subnets = new Map<string, Subnet>();
  readonly ports = new Map<string, Port>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly volumeTypes = new Map<string, VolumeType>();
  readonly pools: Pool[] = [];
  readonly volumes = new Map<string, Volume>();
  readonly snapshots = new Map<string, Snapshot>();
  readonly servers = new Map<string, Server>();
  computeQuota: ComputeQuota = { cores: 20, ramMiB: 51200, instances: 10 };
  volumeQuota: VolumeQuota = { volumes: 20, gigabytes: 1000, snapshots: 20 };
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextInstance = 1;

  constructor(readonly options: SimOptions) {}

  volumeFile = (id: string) => path.join(this.options.dir, 'volumes', `${id}.img`);
  snapshotFile = (id: string) => path.join(this.options.dir, 'snapshots', `${id}.img`);
  instanceName = () => `instance-${(this.nextInstance++).toString(16).padStart(8, '0')}`;

  /** Runs `step` after `ms`, as the cloud's workers would; a failing step never takes the process down. */
  later(ms: number, step: () => void | Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      Promise.resolve()
        .then(step)
        .catch((err: unknown) => process.stderr.write(`openstack simulator: background step failed: ${(err as Error).message}\n`));
    }, ms);
    this.timers.add(timer);
  }

  /** Cancels every pending step (at shutdown). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** The volume attachments of a server, boot volume first. */
  serverVolumes(serverId: string): { volume: Volume; attachment: VolumeAttachment }[] {
    const found = [];
    for (const volume of this.volumes.values()) {
      const attachment = volume.attachments.find((a) => a.serverId === serverId);
      if (attachment) found.push({ volume, attachment });
    }
    return found.sort((a, b) => (a.attachment.bootIndex ?? 99) - (b.attachment.bootIndex ?? 99) || a.attachment.attachedAt.getTime() - b.attachment.attachedAt.getTime());
  }

  computeUsage(projectId: string): ComputeQuota {
    const usage = { cores: 0, ramMiB: 0, instances: 0 };
    for (const s of this.servers.values()) {
      if (s.projectId !== projectId) continue;
      const f = this.flavors.get(s.flavorId);
      usage.instances += 1;
      usage.cores += f?.vcpus ?? 0;
      usage.ramMiB += f?.ramMiB ?? 0;
    }
    return usage;
  }

  /** vCPUs the compute host gives to servers other than `except` (those in ERROR hold none). */
  hostVcpusUsed(except: string): number {
    let used = 0;
    for (const s of this.servers.values()) if (s.id !== except && s.status !== 'ERROR') used += this.flavors.get(s.flavorId)?.vcpus ?? 0;
    return used;
  }

  /** Cinder counts snapshot sizes in `gigabytes` too. */
  volumeUsage(projectId: string): VolumeQuota {
    const usage = { volumes: 0, gigabytes: 0, snapshots: 0 };
    for (const v of this.volumes.values()) {
      if (v.projectId !== projectId) continue;
      usage.volumes += 1;
      usage.gigabytes += v.sizeGiB;
    }
    for (const s of this.snapshots.values()) {
      if (s.projectId !== projectId) continue;
      usage.snapshots += 1;
      usage.gigabytes += s.sizeGiB;
    }
    return usage;
  }
}
