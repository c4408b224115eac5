const KINDS = ['openstack', 'huayun', 'cloudultra'] as const;

const usage = `Usage: ferry sim <kind> --listen HOST:PORT [options]

Kinds:
  openstack    Keystone v3, Nova v2.1, Neutron v2.0 and Cinder v3 on one port
               [--dir DIR] [--user admin] [--password secret] [--project demo] [--token-ttl SECONDS] [--latency-ms N]
  huayun       the Huayun public cloud API
  cloudultra   the CloudUltra 4 API
`;

/** `ferry sim <kind> ...`: runs a cloud simulator until SIGTERM or SIGINT. */
export async function runSim(args: string[]): Promise<number> {
  const [kind, ...rest] = args;
  if (!KINDS.includes(kind as (typeof KINDS)[number])) {
    process.stderr.write(kind === undefined ? usage : `ferry sim: unknown simulator "${kind}"\n\n${usage}`);
    return 1;
  }
  const simulator = (await import(`../sim/${kind}/main.js`)) as { runSimulator(args: string[]): Promise<number> };
  return simulator.runSimulator(rest);
}
