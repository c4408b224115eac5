import { startHostCheck } from './services/hosts/host-check.js';
import { TaskEngine } from './engine/task-engine.js';
import { TaskFeeds } from './engine/task-feeds.js';
import { DEFAULT_TIMINGS } from './engine/step-context.js';
import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { FerryConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { openDatabase, type Database } from './db/database.js';
import { NotificationHub } from './db/notifications.js';
import { openSealer } from './services/secrets/master-key.js';
import { TokenSigner } from './services/auth/tokens.js';
import { createServices, type Services } from './services/index.js';
import { LICENSE_CHANNEL } from './services/license/license-service.js';
import type { GraphQLContext } from './graphql/context.js';
import { buildFerrySchema } from './graphql/schema.js';
import { createFerryPubSub, Topic } from './graphql/topics.js';
import { maskUnexpectedErrors } from './graphql/format-error.js';
import { attachGraphqlWs } from './graphql/ws.js';
import { createHttpApp } from './http/app.js';
import { armorLimits, MAX_TOKENS } from './graphql/limits.js';
import { noStorePlugins } from './graphql/no-store.js';

export interface RunningFerry {
  url: string;
  port: number;
  db: Database;
  services: Services;
  /** what this process's subscriptions read from (events and progress) */
  feeds: TaskFeeds;
  /** set on the very first start when Ferry generated the admin password */
  generatedAdminPassword?: string;
  close(): Promise<void>;
}

/** Limits for every GraphQL operation, HTTP and WebSocket alike. */
const armor = new ApolloArmor(armorLimits);

/** Starts Ferry: database and migrations, services, GraphQL over HTTP and WebSocket, REST shim, health. */
export async function startFerry(config: FerryConfig, log: Logger = createLogger(config.logLevel)): Promise<RunningFerry> {
  const db = await openDatabase(config, log);
  const cleanups: (() => Promise<void>)[] = [() => db.close()];
  let closing: Promise<void> | undefined;
  const closeAll = () =>
    (closing ??= (async () => {
      for (const cleanup of [...cleanups].reverse()) await cleanup().catch((err) => log.error({ err }, 'shutdown step failed'));
    })());
  try {
    const em = db.orm.em.fork();
    const sealer = await openSealer(em, config.dataDir, config.masterKey);
    const signer = await TokenSigner.open(em);
    const hub = new NotificationHub(db.url, log);
    await hub.start();
    cleanups.push(() => hub.close());
    const notify = async (channel: string, payload: string) => {
      await db.orm.em.getConnection().execute('select pg_notify(?, ?)', [channel, payload]);
    };
    let listeningUrl: string | undefined;
    const selfUrl = () => listeningUrl ?? failNotListening();
    const services = createServices({ orm: db.orm, config, log, sealer, signer, notify, selfUrl });
    const admin = await services.auth.ensureAdmin();
    const sweeper = setInterval(() => {
      services.auth.sweep().catch((err) => log.warn({ err }, 'auth sweep failed'));
      services.transports.sweepEventReceipts().catch((err) => log.warn({ err }, 'transport event receipts sweep failed'));
    }, 3_600_000).unref();
    cleanups.push(async () => clearInterval(sweeper));
    cleanups.push(startHostCheck(db.orm, services.hosts, config.hostCheckSeconds, log));
    const engine = new TaskEngine({ orm: db.orm, clouds: services.clouds, transports: services.transports, vmDisks: services.vmDisks, hub, timings: { ...DEFAULT_TIMINGS, ...config.engineTimings }, log });
    engine.start();
    cleanups.push(() => engine.stop());

    const pubSub = createFerryPubSub();
    hub.on(LICENSE_CHANNEL, (id) => pubSub.publish(Topic.LicenseChanged, id));
    const schema = await buildFerrySchema(pubSub);
    const protection = armor.protect();

    let draining = false;
    const httpServer = http.createServer();
    const apollo = new ApolloServer<GraphQLContext>({
      schema,
      validationRules: protection.validationRules,
      allowBatchedHttpRequests: false,
      parseOptions: { maxTokens: MAX_TOKENS },
      // armor's typings resolve to Apollo's CommonJS build; the plugins are the same objects
      plugins: [...(protection.plugins as unknown as ApolloServerPlugin<GraphQLContext>[]), ApolloServerPluginDrainHttpServer({ httpServer }), ...noStorePlugins<GraphQLContext>()],
      formatError: maskUnexpectedErrors(log),
      includeStacktraceInErrorResponses: false,
      // kept whatever NODE_ENV says (Apollo turns it off in production): frontends generate their types from it
      introspection: true,
      // `ferry serve` handles SIGTERM/SIGINT itself and must finish closing (embedded PostgreSQL included)
      stopOnTerminationSignals: false,
    });
    await apollo.start();
    cleanups.push(() => apollo.stop());
    httpServer.on('request', createHttpApp({ db, services, apollo, log, isDraining: () => draining }));
    // registered last so it closes first: open sockets would otherwise hold the HTTP drain
    const feeds = new TaskFeeds(db.orm, hub);
    const ws = attachGraphqlWs({ httpServer, schema, services, hub, feeds, validationRules: protection.validationRules, log });
    cleanups.push(() => ws.close());

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    const { port } = httpServer.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    listeningUrl = `http://${reachableHost(config.host)}:${port}`;
    return {
      url: `http://${host}:${port}`,
      port,
      db,
      services,
      feeds,
      generatedAdminPassword: admin.generatedPassword,
      async close() {
        draining = true;
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function failNotListening(): never {
  throw new Error('Ferry is not listening yet');
}

/** A host to reach this process at: loopback when it listens on every address. */
function reachableHost(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
