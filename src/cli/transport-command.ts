import os from 'node:os';
import { parseArgs } from 'node:util';
import { startTransport } from '../transport/server/transport-server.js';
import { DEFAULT_TRANSPORT_PORT, parseAddress, type StorageTypeName } from '../transport/protocol.js';
import { waitForStopSignal } from './stop-signal.js';

const STORAGE_TYPES: StorageTypeName[] = ['LOCAL', 'ARSTOR', 'FCSAN', 'IPSAN', 'XSKY'];

/** `ferry transport --listen HOST[:PORT] --state DIR [--max-tasks N] [--storage-type T] [--storage-id ID] [--cloud-server-id ID] [--reset-pairing]` */
export async function runTransport(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: `127.0.0.1:${DEFAULT_TRANSPORT_PORT}` },
      state: { type: 'string' },
      'max-tasks': { type: 'string', default: '4' },
      'storage-type': { type: 'string', default: 'LOCAL' },
      'storage-id': { type: 'string', default: `local-${os.hostname()}` },
      'cloud-server-id': { type: 'string' },
      'reset-pairing': { type: 'boolean', default: false },
    },
  });
  const listen = parseAddress(values.listen, DEFAULT_TRANSPORT_PORT);
  if (!listen) throw new Error(`--listen must be host or host:port, got "${values.listen}"`);
  if (!values.state) throw new Error('--state DIR is required: the transport keeps its pairing, outbox and block hashes there');
  const maxTasks = Number(values['max-tasks']);
  if (!Number.isInteger(maxTasks) || maxTasks < 1) throw new Error(`--max-tasks must be a positive integer, got "${values['max-tasks']}"`);
  const storageType = values['storage-type'] as StorageTypeName;
  if (!STORAGE_TYPES.includes(storageType)) throw new Error(`--storage-type must be one of ${STORAGE_TYPES.join(', ')}, got "${storageType}"`);
  if (values['reset-pairing']) {
    const { Pairing } = await import('../transport/pairing.js');
    await Pairing.reset(`${values.state}/pairing.json`);
  }
  const transport = await startTransport({
    host: listen.host,
    port: listen.port,
    stateDir: values.state,
    maxTasks,
    storageType,
    storageId: values['storage-id'],
    cloudServerId: values['cloud-server-id'],
    log: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(`Ferry transport ${transport.transportId} listening on ${transport.url}; state in ${values.state}\n`);
  await waitForStopSignal();
  await transport.close();
  return 0;
}
