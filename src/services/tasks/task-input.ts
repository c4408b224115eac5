import { fail, ok, type Result } from '../errors.js';

/** The target server as the task will boot it; every field optional until CreateInstance. */
export interface InstanceSpec {
  flavorId?: string;
  cpu?: number;
  sockets?: number;
  /** GB */
  memory?: number;
  networkId?: string;
  subnetId?: string;
  /** a fixed address on the subnet, when wanted */
  fixedIp?: string;
  routeId?: string;
  securityGroupId?: string;
  aggregateId?: string;
  /** Mbps (Huayun) */
  bandwidth?: number;
  targetServerName?: string;
}

export interface TaskVolumeInput {
  /** the source disk, e.g. /dev/vda */
  volumeName: string;
  volumeType?: string;
  /** GB; at least the source disk's size */
  volumeSize?: number;
  cloudVolumeName?: string;
  preAlloc?: boolean;
}

/** PrepareTaskWorkload, field names as the service sees them; messages name the legacy fields. */
export interface NewTaskInput extends InstanceSpec {
  name: string;
  priority?: number;
  hostId: string;
  cloudId: string;
  srcTransId?: string;
  targetTransId: string;
  storageId?: string;
  intervalMinutes: number;
  maxSnapsNum: number;
  /** `YYYY-MM-DD HH:MM[:SS]` in Ferry's time zone, or a Date */
  startTime: string | Date;
  isCompressed?: boolean;
  qosLimit?: number;
  volumes: TaskVolumeInput[];
}

/** UpdateTask: absent fields keep their value. */
export interface TaskUpdateInput extends InstanceSpec {
  name?: string;
  priority?: number;
  intervalMinutes?: number;
  maxSnapsNum?: number;
  startTime?: string | Date;
  /** volume types by source disk */
  volumeTypes?: { volumeName: string; volumeType: string }[];
}

const NAME_RULE = /^[^\u0000-\u001f\u007f]{1,64}$/u;
export const MAX_INTERVAL_MINUTES = 7 * 24 * 60;
export const MAX_SNAPSHOTS = 64;
const SERVER_NAME_RULE = /^[^\u0000-\u001f\u007f]{1,255}$/u;

export function checkTaskName(name: string, field = 'Name'): Result<string> {
  const trimmed = name.trim();
  if (!NAME_RULE.test(trimmed)) return fail('INVALID_INPUT', `${field} must be 1–64 characters without control characters (got "${name.slice(0, 70)}").`, field);
  return ok(trimmed);
}

export function checkInterval(minutes: number, field = 'IntervalMinutes'): Result<number> {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_INTERVAL_MINUTES) return fail('INVALID_INPUT', `${field} must be a whole number of minutes from 1 to ${MAX_INTERVAL_MINUTES} (got ${minutes}).`, field);
  return ok(minutes);
}

export function checkMaxSnaps(count: number, field = 'MaxSnapsNum'): Result<number> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SNAPSHOTS) return fail('INVALID_INPUT', `${field} must be a whole number from 1 to ${MAX_SNAPSHOTS} (got ${count}).`, field);
  return ok(count);
}

export function checkPriority(priority: number, field = 'Priority'): Result<number> {
  if (!Number.isInteger(priority) || priority < 0 || priority > 1000) return fail('INVALID_INPUT', `${field} must be a whole number from 0 to 1000, larger runs first (got ${priority}).`, field);
  return ok(priority);
}

const LEGACY_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** `YYYY-MM-DD HH:MM[:SS]` read in Ferry's local time zone (as the legacy API shows times), or a Date. */
export function checkStartTime(value: string | Date, field = 'StartTime'): Result<Date> {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? fail('INVALID_INPUT', `${field} is not a valid time.`, field) : ok(value);
  const m = LEGACY_TIME.exec(value.trim());
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1).map((p) => Number(p ?? 0));
    const date = new Date(y, mo - 1, d, h, mi, s);
    if (date.getFullYear() === y && date.getMonth() === mo - 1 && date.getDate() === d && h < 24 && mi < 60 && s < 60) return ok(date);
  }
  return fail('INVALID_INPUT', `${field} must be a time as YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS (got "${value.slice(0, 40)}").`, field);
}

/** CPU, memory and the like: whole and positive when given. */
export function checkCount(value: number | undefined, field: string, max: number): Result<number | undefined> {
  if (value === undefined || value === null) return ok(undefined);
  if (!Number.isInteger(value) || value < 1 || value > max) return fail('INVALID_INPUT', `${field} must be a whole number from 1 to ${max} (got ${value}).`, field);
  return ok(value);
}

export function checkQos(value: number | undefined): Result<number> {
  if (value === undefined) return ok(0);
  if (!Number.isInteger(value) || value < 0 || value > 100_000) return fail('INVALID_INPUT', `QosLimit must be a whole number of MB/s from 0 (no limit) to 100000 (got ${value}).`, 'QosLimit');
  return ok(value);
}

export function checkServerName(name: string | undefined): Result<string | undefined> {
  if (name === undefined || name === '') return ok(undefined);
  if (!SERVER_NAME_RULE.test(name)) return fail('INVALID_INPUT', 'TargetServerName must be 1–255 characters without control characters.', 'TargetServerName');
  return ok(name);
}

/** The instance fields of a task, checked for form (their existence in the cloud is checked apart). */
export function checkInstanceSpec(spec: InstanceSpec): Result<InstanceSpec> {
  for (const [value, field, max] of [[spec.cpu, 'CPU', 1024], [spec.sockets, 'Sockets', 64], [spec.memory, 'Memory', 16384], [spec.bandwidth, 'BandWidth', 100_000]] as const) {
    const checked = checkCount(value, field, max);
    if (!checked.ok) return checked;
  }
  if (spec.flavorId && (spec.cpu !== undefined || spec.memory !== undefined)) return fail('INVALID_INPUT', 'Give either FlavorId or CPU and Memory, not both.', 'FlavorId');
  if ((spec.cpu === undefined) !== (spec.memory === undefined)) return fail('INVALID_INPUT', 'CPU and Memory go together: give both, or a FlavorId instead.', spec.cpu === undefined ? 'CPU' : 'Memory');
  if (spec.subnetId && !spec.networkId) return fail('INVALID_INPUT', 'SubnetId needs the NetworkId it belongs to.', 'NetworkId');
  const name = checkServerName(spec.targetServerName);
  return name.ok ? ok({ ...spec, targetServerName: name.value }) : name;
}
