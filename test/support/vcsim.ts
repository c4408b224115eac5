import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const buildScript = path.resolve('scripts/build-vcsim.sh');

export interface VcsimOptions {
  /** vpx: a vCenter (simulator.VPX()); esx: a standalone ESXi host (simulator.ESX()). Default vpx */
  mode?: 'vpx' | 'esx';
  /** datacenters (vpx; default 1) */
  datacenters?: number;
  /** clusters per datacenter (vpx; default 1) */
  clusters?: number;
  /** hosts per cluster (vpx; default 3) */
  clusterHosts?: number;
  /** standalone hosts per datacenter (vpx; default 1) */
  hosts?: number;
  /** VMs per standalone host and per cluster; on esx, VMs of the host (default 2) */
  vms?: number;
  /** local datastores (default 1) */
  datastores?: number;
  /** the last N datacenters are placed in a folder, their items in sub-folders (vpx; default 0) */
  folders?: number;
  /** a chain of D nested VM folders per datacenter holding its VMs (vpx; default 0) */
  folderDepth?: number;
  /** http instead of https */
  plain?: boolean;
  username?: string;
  password?: string;
  /** seconds of inactivity after which a session expires (checked every that many seconds) */
  sessionIdleSeconds?: number;
  /** pairs of VMs sharing one config.uuid */
  duplicateUuid?: number;
  /**
   * page RetrievePropertiesEx answers as vCenter does: at most min(options.maxObjects, N) objects
   * and a `token`, ContinueRetrievePropertiesEx/CancelRetrievePropertiesEx on the same session
   * (default 0: every object at once, no token)
   */
  pageSize?: number;
  /** RetrieveProperties(Ex) without a valid session fault NotAuthenticated (HTTP 500) as on vCenter, not 200 with a missingSet */
  faultExpiredReads?: boolean;
  /** serve DIR/cert.pem + key.pem, created there (self-signed ECDSA P-256) when absent: the same dir, the same certificate */
  certDir?: string;
  /**
   * give every VM disk N MiB: its capacity in config.hardware.device, a sparse extent
   * `<name>-flat.vmdk` of that size and a VMware monolithic flat descriptor `<name>.vmdk` naming it
   * (default 0: the model's 1 MiB disks, two empty files). Read them over the datastore HTTP
   * interface (/folder), which always answers 401 unless given a `vmware_cgi_ticket` cookie from
   * AcquireGenericServiceTicket for that method and URL (single use, valid 10 minutes) or a live
   * `vmware_soap_session`.
   */
  diskMb?: number;
  /**
   * changed-block tracking unsupported: every VM reports `capability.changeTrackingSupported` false.
   * ReconfigVM_Task still sets `config.changeTrackingEnabled`, but snapshots give the disks no
   * `backing.changeId` and QueryChangedDiskAreas faults FileFault (default: supported; a snapshot
   * of a VM with `config.changeTrackingEnabled` gives each disk a changeId, and
   * QueryChangedDiskAreas answers from the flat extents' content in 64 KiB chunks)
   */
  noCbt?: boolean;
  /** a fixed loopback port (default: any free one), e.g. to restart on the port of a stopped vcsim */
  port?: number;
  /** more flags, as is */
  args?: string[];
}

export interface VcsimCounts {
  vms: number;
  hosts: number;
  datacenters: number;
  clusters: number;
  /** every Folder, the root folder and each datacenter's vm/host/datastore/network folders included */
  folders: number;
}

/** A datastore and the local directory holding its files (a VM's disk: `<path>/<vm>/disk1-flat.vmdk`). */
export interface VcsimDatastore {
  /** the datacenter's inventory path, as dcPath takes it: DC0, F0/DC2 (in a folder), ha-datacenter (esx) */
  datacenter: string;
  /** LocalDS_0, … */
  name: string;
  path: string;
}

export interface VcsimProcess {
  proc: ChildProcess;
  /** https://127.0.0.1:PORT/sdk (http with `plain`) */
  url: string;
  /** SHA-1 of the certificate (DER), AA:BB:…, as vSphere shows it; '' with `plain` */
  thumbprint: string;
  /** SHA-256 of the certificate, same format; '' with `plain` */
  sha256: string;
  username: string;
  password: string;
  counts: VcsimCounts;
  /** every datastore, by datacenter then name: write into a VM's flat extent there */
  datastores: VcsimDatastore[];
  output: () => string;
  /** SIGTERM (or SIGKILL with `kill9`) and wait for the exit */
  stop(kill9?: boolean): Promise<void>;
}

let binary: Promise<string> | undefined;

/**
 * The path of the vcsim binary: `FERRY_VCSIM_BIN` when set, else what scripts/build-vcsim.sh
 * prints (it builds into the cache only when the binary for these sources is absent).
 */
export function vcsimBinary(): Promise<string> {
  binary ??= process.env.FERRY_VCSIM_BIN
    ? Promise.resolve(process.env.FERRY_VCSIM_BIN)
    : promisify(execFile)('bash', [buildScript], { timeout: 600_000 }).then(
        ({ stdout }) => stdout.trim().split('\n').pop()!,
        (err: Error & { stderr?: string }) => {
          binary = undefined;
          throw new Error(`scripts/build-vcsim.sh failed: ${err.stderr || err.message}`);
        },
      );
  return binary;
}

export function vcsimArgs(o: VcsimOptions): string[] {
  const args = ['-listen', `127.0.0.1:${o.port ?? 0}`];
  const flag = (name: string, v: number | string | undefined) => v !== undefined && args.push(`-${name}`, String(v));
  flag('mode', o.mode);
  flag('dc', o.datacenters);
  flag('cluster', o.clusters);
  flag('cluster-host', o.clusterHosts);
  flag('host', o.hosts);
  flag('vm', o.vms);
  flag('ds', o.datastores);
  flag('folder', o.folders);
  flag('folder-depth', o.folderDepth);
  flag('username', o.username);
  flag('password', o.password);
  flag('session-idle', o.sessionIdleSeconds);
  flag('duplicate-uuid', o.duplicateUuid);
  flag('page-size', o.pageSize);
  flag('cert-dir', o.certDir);
  flag('disk-mb', o.diskMb);
  if (o.plain) args.push('-plain');
  if (o.faultExpiredReads) args.push('-fault-expired-reads');
  if (o.noCbt) args.push('-no-cbt');
  return [...args, ...(o.args ?? [])];
}

/**
 * Runs our vcsim (test/vcsim) as a real process on a free loopback port and waits for the JSON
 * line it prints once it serves. Its datastores live in a temporary directory removed on stop.
 */
export async function spawnVcsim(opts: VcsimOptions = {}): Promise<VcsimProcess> {
  const bin = await vcsimBinary();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ferry-vcsim-'));
  const proc = spawn(bin, vcsimArgs(opts), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const started = await new Promise<any>((resolve, reject) => {
    const timer = setTimeout(() => fail('no JSON line within 20 s'), 20_000);
    function fail(why: string) {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      void exited.then(() => rm(tmp, { recursive: true, force: true }));
      reject(new Error(`vcsim did not start (${why}): ${out}${err}`));
    }
    const onData = () => {
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.off('exit', onExit);
      try {
        resolve(JSON.parse(out.slice(0, nl)));
      } catch {
        fail('not JSON');
      }
    };
    const onExit = (code: number | null) => fail(`exited with ${code}`);
    proc.stdout!.on('data', onData);
    proc.once('exit', onExit);
  });
  return {
    proc,
    url: started.url,
    thumbprint: started.thumbprint,
    sha256: started.sha256,
    username: started.username,
    password: started.password,
    counts: { vms: started.vms, hosts: started.hosts, datacenters: started.datacenters, clusters: started.clusters, folders: started.folders },
    datastores: started.datastores,
    output: () => out + err,
    async stop(kill9 = false) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(kill9 ? 'SIGKILL' : 'SIGTERM');
      await exited;
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
