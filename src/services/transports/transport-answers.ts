import { z } from 'zod';
import { StorageType } from '../../../entities/index.js';
import { PROTOCOL_VERSION, type PairResponse, type TransportInfo } from '../../transport/protocol.js';
import { fail, ok, type Result } from '../errors.js';

/** What a transport tells about itself, checked before any of it is stored. */
const infoSchema = z.object({
  maxSupportedTasks: z.number().int().min(0).max(1_000_000),
  currentTasks: z.number().int().min(0).max(1_000_000),
  storageId: z.string().max(255),
  storageType: z.enum(StorageType),
  paired: z.boolean(),
});

const pairSchema = z.object({
  transportId: z.string().min(1).max(64),
  secret: z.string().min(16).max(1024),
});

/** `GET /v1/info` of a Ferry transport speaking our protocol version; anything else is refused, naming the address. */
export function checkInfo(mgntAddr: string, info: TransportInfo, field?: string): Result<TransportInfo> {
  const where = `transport at ${mgntAddr}`;
  const role = (info as { role?: unknown } | null)?.role;
  if (role !== 'transport') {
    const what = role === 'agent' ? 'a Ferry agent' : 'something else than a Ferry transport';
    return fail('TRANSPORT_ERROR', `${mgntAddr} is not a transport server: ${what} answers there.`, field);
  }
  if (info.protocol !== PROTOCOL_VERSION) {
    return fail('TRANSPORT_ERROR', `${where} speaks protocol version ${String(info.protocol).slice(0, 16)}; this Ferry speaks version ${PROTOCOL_VERSION}.`, field);
  }
  if (!infoSchema.safeParse(info).success) return fail('TRANSPORT_ERROR', `${where} answered /v1/info with values Ferry cannot use.`, field);
  return ok(info);
}

export function checkPairing(mgntAddr: string, answer: PairResponse, field?: string): Result<PairResponse> {
  if (!pairSchema.safeParse(answer).success) return fail('TRANSPORT_ERROR', `transport at ${mgntAddr} answered the pairing with values Ferry cannot use.`, field);
  return ok(answer);
}

/** The stored columns that mirror a transport's own report. */
export const infoColumns = (info: TransportInfo) => ({
  maxSupportedTasks: info.maxSupportedTasks,
  currentTasks: info.currentTasks,
  storageId: info.storageId,
  storageType: info.storageType as StorageType,
  protocolVersion: String(info.protocol),
  cloudServerId: info.cloudServerId,
});
