import { parseArgs } from 'node:util';

export interface SimOptions {
  host: string;
  port: number;
  accessKey: string;
  secretKey: string;
  /** where volume files live; undefined: a temporary directory removed at exit */
  dir?: string;
  latencyMs: number;
}

export const SIM_OPTIONS_USAGE = `--listen HOST:PORT [--access-key AK] [--secret-key SK] [--dir DIR] [--latency-ms N]
  --listen      where to serve (required), e.g. 127.0.0.1:9300
  --access-key  the AccessKey it accepts (default ferry-ak)
  --secret-key  its SecretKey (default ferry-sk)
  --dir         where volume files go, in DIR/volumes (default: a temporary directory, removed at exit)
  --latency-ms  delay every answer by N ms (to try timeouts)`;

/** The options every AK/SK cloud simulator takes; throws with a readable message. */
export function parseSimOptions(args: string[]): SimOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      listen: { type: 'string' },
      'access-key': { type: 'string', default: 'ferry-ak' },
      'secret-key': { type: 'string', default: 'ferry-sk' },
      dir: { type: 'string' },
      'latency-ms': { type: 'string', default: '0' },
    },
  });
  const listen = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(values.listen ?? '');
  if (!listen || Number(listen[2]) > 65535) throw new Error(`--listen must be HOST:PORT, e.g. 127.0.0.1:9300, got "${values.listen ?? ''}"`);
  const latencyMs = Number(values['latency-ms']);
  if (!Number.isInteger(latencyMs) || latencyMs < 0) throw new Error(`--latency-ms must be a whole number of milliseconds, got "${values['latency-ms']}"`);
  if (!values['access-key'] || !values['secret-key']) throw new Error('--access-key and --secret-key must not be empty');
  return {
    host: listen[1].replace(/^\[|\]$/g, ''),
    port: Number(listen[2]),
    accessKey: values['access-key'],
    secretKey: values['secret-key'],
    dir: values.dir,
    latencyMs,
  };
}
