import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { waitForStopSignal } from '../../cli/stop-signal.js';
import { parseAddress } from '../../transport/protocol.js';
import { describeSeed } from './describe.js';
import { seed } from './seed.js';
import { startHttpServer } from './server.js';
import { SimState } from './state.js';

const DEFAULT_PORT = 5000;

/**
 * `ferry sim openstack --listen HOST:PORT [--dir DIR] [--user U] [--password P] [--project P]
 * [--token-ttl SECONDS] [--latency-ms N] [--host-vcpus N]`: Keystone, Nova, Neutron and Cinder on one port until
 * SIGTERM or SIGINT.
 */
export async function runSimulator(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      listen: { type: 'string', default: `127.0.0.1:${DEFAULT_PORT}` },
      dir: { type: 'string' },
      user: { type: 'string', default: 'admin' },
      password: { type: 'string', default: 'secret' },
      project: { type: 'string', default: 'demo' },
      'token-ttl': { type: 'string', default: '3600' },
      'latency-ms': { type: 'string', default: '0' },
      // the compute host's size: builds beyond it fail as Nova's scheduler fails them (NoValidHost)
      'host-vcpus': { type: 'string', default: '64' },
    },
  });
  const listen = parseAddress(values.listen, DEFAULT_PORT);
  if (!listen) throw new Error(`--listen must be host or host:port, got "${values.listen}"`);
  const tokenTtlSeconds = Number(values['token-ttl']);
  if (!Number.isInteger(tokenTtlSeconds) || tokenTtlSeconds < 1) throw new Error(`--token-ttl must be a positive number of seconds, got "${values['token-ttl']}"`);
  const latencyMs = Number(values['latency-ms']);
  if (!Number.isInteger(latencyMs) || latencyMs < 0) throw new Error(`--latency-ms must be a whole number of milliseconds, got "${values['latency-ms']}"`);

  const hostVcpus = Number(values['host-vcpus']);
  if (!Number.isInteger(hostVcpus) || hostVcpus < 1) throw new Error(`--host-vcpus must be a positive whole number, got "${values['host-vcpus']}"`);

  const ownDir = values.dir === undefined;
  const dir = ownDir ? await mkdtemp(path.join(os.tmpdir(), 'ferry-sim-openstack-')) : path.resolve(values.dir!);
  await mkdir(path.join(dir, 'volumes'), { recursive: true });
  await mkdir(path.join(dir, 'snapshots'), { recursive: true });

  const state = new SimState({ dir, tokenTtlSeconds, publicUrl: '', hostVcpus });
  seed(state, { project: values.project!, user: values.user!, password: values.password! });
  const stopped = waitForStopSignal();
  let server;
  try {
    server = await startHttpServer(state, listen.host, listen.port, latencyMs);
  } catch (err) {
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  // catalog URLs must be reachable: a wildcard address is reached through loopback
  const publicHost = ['0.0.0.0', '::'].includes(listen.host) ? '127.0.0.1' : listen.host;
  state.options.publicUrl = `http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${server.port}`;
  process.stdout.write(describeSeed(state, { dir, ownDir, user: values.user!, password: values.password!, latencyMs }));
  process.stdout.write(`OpenStack simulator listening on ${server.url}\n`);

  await stopped;
  state.stop();
  await server.close();
  if (ownDir) await rm(dir, { recursive: true, force: true });
  return 0;
}
