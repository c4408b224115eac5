import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitForStopSignal } from '../../cli/stop-signal.js';
import { startApiServer } from './api-server.js';
import { CloudState, type IdKind } from './cloud-state.js';
import type { Route } from './router.js';
import { parseSimOptions, SIM_OPTIONS_USAGE, type SimOptions } from './sim-options.js';
import { VolumeFiles } from './volume-files.js';

export interface SimulatorDefinition {
  /** "huayun", "cloudultra": the `ferry sim` kind */
  kind: string;
  /** "Huayun simulator" */
  title: string;
  newId: (kind: IdKind) => string;
  /** seeds the state; answers the routes to serve and what to print once listening (given its URL) */
  build(state: CloudState, opts: SimOptions): Promise<{ routes: Route[]; describe: (url: string) => string[] }>;
}

/** Runs one AK/SK cloud simulator until SIGTERM or SIGINT; the process exit code. */
export async function runSignedApiSimulator(def: SimulatorDefinition, args: string[]): Promise<number> {
  let opts: SimOptions;
  try {
    opts = parseSimOptions(args);
  } catch (err) {
    process.stderr.write(`ferry sim ${def.kind}: ${(err as Error).message}\nUsage: ferry sim ${def.kind} ${SIM_OPTIONS_USAGE}\n`);
    return 2;
  }
  const root = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), `ferry-sim-${def.kind}-`)));
  try {
    const state = new CloudState(new VolumeFiles(root), def.newId);
    const { routes, describe } = await def.build(state, opts);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const server = await startApiServer({ ...opts, routes, log }).catch((err: Error) => {
      throw new Error(`cannot listen on ${opts.host}:${opts.port}: ${err.message}`);
    });
    const lines = [...describe(server.url), `volume files in ${state.files.dir}`, `AccessKey ${opts.accessKey} (SecretKey as given by --secret-key)`];
    if (opts.latencyMs) lines.push(`every answer is delayed by ${opts.latencyMs} ms`);
    process.stdout.write(`${lines.join('\n')}\n${def.title} listening on ${server.url}\n`);
    await waitForStopSignal();
    await server.close();
    return 0;
  } catch (err) {
    process.stderr.write(`ferry sim ${def.kind}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    if (!opts.dir) await rm(root, { recursive: true, force: true });
  }
}
