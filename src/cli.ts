import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { runSim } from './cli/sim-command.js';

const usage = `Usage: ferry <command>

Commands:
  serve                     run Ferry (GraphQL, REST shim, health) — see README.md for its settings
  agent [--listen HOST[:PORT]] [--disk PATH ...] [--state DIR] [--reset-pairing]
                            serve this machine's facts and disks to its transport (default port 7001)
  transport --state DIR [--listen HOST[:PORT]] [--max-tasks N] [--storage-type LOCAL|ARSTOR|FCSAN|IPSAN|XSKY]
            [--storage-id ID] [--reset-pairing]
                            pull disks from agents into target devices (default port 7002)
  sync --disk PATH --target PATH [--agent ADDR] [--transport ADDR] [--kind full|incremental]
       [--compress] [--qos MB/s] [--state DIR]
                            run one cycle as a stand-alone controller (to try a transport and an agent)
  sim openstack|huayun|cloudultra --listen HOST:PORT [...]
                            run a simulated cloud for tests and demos (\`ferry sim\` lists the options)
  schema [--out FILE]       print the GraphQL SDL (or write it to FILE)
  license keygen [--out-dir DIR]
                            make an Ed25519 key pair for signing activation keys
  license issue --private-key FILE --credits N --expires YYYY-MM-DD [--id UUID]
                            print an activation key
`;

/** `ferry` subcommands; returns the process exit code. Each loads only its own code (agents and transports start fast). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await (await import('./cli/serve-command.js')).runServe();
      case 'agent':
        return await (await import('./cli/agent-command.js')).runAgent(rest);
      case 'transport':
        return await (await import('./cli/transport-command.js')).runTransport(rest);
      case 'sync':
        return await (await import('./cli/sync-command.js')).runSync(rest);
      case 'sim':
        return await runSim(rest);
      case 'schema': {
        const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } } });
        const { printFerrySchema } = await import('./graphql/schema.js');
        const sdl = await printFerrySchema();
        if (values.out) await writeFile(values.out, sdl + '\n');
        else process.stdout.write(sdl + '\n');
        return 0;
      }
      case 'license':
        return await (await import('./cli/license-command.js')).runLicenseCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(usage);
        return command === undefined ? 1 : 0;
      default:
        process.stderr.write(`ferry: unknown command "${command}"\n\n${usage}`);
        return 1;
    }
  } catch (err) {
    process.stderr.write(`ferry ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}
