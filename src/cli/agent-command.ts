import { parseArgs } from 'node:util';
import { startAgent } from '../transport/agent/agent-server.js';
import { DEFAULT_AGENT_PORT, parseAddress } from '../transport/protocol.js';
import { waitForStopSignal } from './stop-signal.js';

/** `ferry agent --listen HOST[:PORT] [--disk PATH ...] [--state DIR] [--reset-pairing]` */
export async function runAgent(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: `127.0.0.1:${DEFAULT_AGENT_PORT}` },
      disk: { type: 'string', multiple: true, default: [] },
      state: { type: 'string', default: '.ferry-agent' },
      'reset-pairing': { type: 'boolean', default: false },
    },
  });
  const listen = parseAddress(values.listen, DEFAULT_AGENT_PORT);
  if (!listen) throw new Error(`--listen must be host or host:port, got "${values.listen}"`);
  if (values['reset-pairing']) {
    const { Pairing } = await import('../transport/pairing.js');
    await Pairing.reset(`${values.state}/pairing.json`);
  }
  const agent = await startAgent({ host: listen.host, port: listen.port, disks: values.disk, stateDir: values.state, log: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`Ferry agent listening on ${agent.url}; disks: ${values.disk.length ? values.disk.join(', ') : "this machine's own"}\n`);
  await waitForStopSignal();
  await agent.close();
  return 0;
}
