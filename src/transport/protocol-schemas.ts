import { z } from 'zod';
import { HttpError } from './http-util.js';
import { DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE } from './protocol.js';

/** Runtime checks of the protocol's requests; the types themselves are in protocol.ts. */
const blockSize = z.number().int().min(MIN_BLOCK_SIZE).max(MAX_BLOCK_SIZE).refine((n) => n % 4096 === 0, 'must be a multiple of 4096');
const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits, . _ : -');
const address = z.string().min(1).max(262);

export const readRequestSchema = z.object({
  disk: z.string().min(1).max(4096),
  blockSize,
  knownHashes: z.string().max(96 * 1024 * 1024).optional(),
  compress: z.boolean(),
});

export const pairRequestSchema = z.object({
  controllerId: id,
  callbackUrl: z.url({ protocol: /^https?$/ }),
});

export const agentRequestSchema = z.object({ agentAddr: address });

export const endpointProbeSchema = z.object({ url: z.url({ protocol: /^https?$/ }).max(2048) });

const ticket = z.string().min(1).max(1024);
const byteCount = z.number().int().min(0).max(2 ** 53 - 1);
const datastoreExtent = z
  .object({
    url: z.url({ protocol: /^https?$/ }).max(4096),
    sizeBytes: byteCount.positive(),
    ticket: ticket.optional(),
    ranges: z.array(z.object({ offset: byteCount, length: byteCount.positive(), ticket })).max(4096).optional(),
  })
  .superRefine((e, ctx) => {
    if (!e.ticket === !e.ranges) ctx.addIssue({ code: 'custom', path: ['ticket'], message: 'give either ticket (the whole extent) or ranges, not both or neither' });
    let end = 0;
    e.ranges?.forEach((r, i) => {
      if (r.offset < end || r.offset + r.length > e.sizeBytes) ctx.addIssue({ code: 'custom', path: ['ranges', i], message: 'ranges must be in order, apart, and within sizeBytes' });
      end = r.offset + r.length;
    });
  });

export const cycleRequestSchema = z
  .object({
    cycleId: id,
    taskId: id,
    agentAddr: address.optional(),
    datastore: z.object({ certificateSha256: z.string().regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'must be a SHA-256 thumbprint, AA:BB:… (32 bytes)').optional() }).optional(),
    kind: z.enum(['full', 'incremental']),
    disks: z
      .array(z.object({ disk: z.string().min(1).max(4096), targetPath: z.string().min(1).max(4096), datastore: datastoreExtent.optional() }))
      .min(1)
      .max(64),
    blockSize: blockSize.optional(),
    compress: z.boolean().optional(),
    qosMBps: z.number().min(0).max(100_000).optional(),
  })
  .superRefine((r, ctx) => {
    if (!r.agentAddr === !r.datastore) ctx.addIssue({ code: 'custom', path: ['agentAddr'], message: 'give either agentAddr (an agent host) or datastore (a vSphere VM), not both or neither' });
    const block = r.blockSize ?? DEFAULT_BLOCK_SIZE;
    r.disks.forEach((d, i) => {
      if (!r.datastore !== !d.datastore) ctx.addIssue({ code: 'custom', path: ['disks', i, 'datastore'], message: r.datastore ? 'is required when the disks are read from a datastore' : 'is only for disks read from a datastore' });
      d.datastore?.ranges?.forEach((range, j) => {
        const end = range.offset + range.length;
        if (range.offset % block || (end % block && end !== d.datastore!.sizeBytes)) ctx.addIssue({ code: 'custom', path: ['disks', i, 'datastore', 'ranges', j], message: `must start and end on a block boundary (${block} bytes)` });
      });
    });
  });

export const conversionRequestSchema = z.object({
  conversionId: id,
  taskId: id,
  targets: z
    .array(z.object({ targetPath: z.string().min(1).max(4096), boot: z.boolean() }))
    .min(1)
    .max(64),
});

/** Parses a request body or answers 400 naming the field and the rule. */
export function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.join('.') || 'body';
  throw new HttpError(400, 'invalid-request', `${field}: ${issue.message}`);
}
