import { configFromEnv } from '../config.js';
import { createLogger } from '../logger.js';
import { startFerry } from '../server.js';

/** `ferry serve`: runs until SIGTERM or SIGINT, then drains and stops, embedded PostgreSQL included. */
export async function runServe(): Promise<number> {
  const config = configFromEnv();
  const log = createLogger(config.logLevel);
  const ferry = await startFerry(config, log);
  const out = process.stdout;
  out.write(`Ferry listening on ${ferry.url} (GraphQL ${ferry.url}/graphql, REST ${ferry.url}/Login)\n`);
  out.write(
    ferry.db.embedded
      ? `Data: embedded PostgreSQL in ${ferry.db.embedded.dataDir} (127.0.0.1:${config.embeddedPgPort})${ferry.db.embedded.created ? ', created now' : ''}; keys in ${config.dataDir}\n`
      : `Data: PostgreSQL at ${redactUrl(ferry.db.url)}; keys in ${config.dataDir}\n`,
  );
  if (ferry.generatedAdminPassword) {
    out.write(`Initial admin password (shown once; change it at first login): admin / ${ferry.generatedAdminPassword}\n`);
  }
  const exitCode = await new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      resolve(0);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    // a fault no request handler caught: log it and stop cleanly, so embedded PostgreSQL stops too
    const fault = (err: unknown) => {
      log.fatal({ err }, 'unexpected fault; stopping');
      resolve(1);
    };
    process.once('uncaughtException', fault);
    process.once('unhandledRejection', fault);
  });
  await ferry.close();
  out.write('Ferry stopped.\n');
  return exitCode;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured DATABASE_URL';
  }
}
