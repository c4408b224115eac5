import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './ports.js';
import { sleep } from './wait.js';

const ferryBin = path.resolve('bin/ferry.js');

export interface SimulatorProcess {
  proc: ChildProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  output: () => string;
  /** SIGTERM (or SIGKILL with `kill9`) and wait for the exit */
  stop(kill9?: boolean): Promise<void>;
}

/**
 * Runs `ferry sim <kind> --listen 127.0.0.1:PORT ...args` as a real process and waits for the
 * line saying it listens (every simulator prints "listening on http://HOST:PORT").
 */
export async function spawnSimulator(kind: 'openstack' | 'huayun' | 'cloudultra', args: string[] = [], port?: number): Promise<SimulatorProcess> {
  const listenPort = port ?? (await freePort());
  const proc = spawn(process.execPath, [ferryBin, 'sim', kind, '--listen', `127.0.0.1:${listenPort}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  for (const end = Date.now() + 20_000; !out.includes('listening on'); ) {
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`ferry sim ${kind} did not start: ${out}`);
    await sleep(50);
  }
  return {
    proc,
    url: `http://127.0.0.1:${listenPort}`,
    port: listenPort,
    output: () => out,
    async stop(kill9 = false) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(kill9 ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
  };
}
