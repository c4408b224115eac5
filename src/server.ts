import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
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
import { armorLimits, MAX_TOKENS } from './graphql/limits.js';
import { restRouter, tokenFrom, BODY_LIMIT_BYTES } from './rest/router.js';
import { restRoutes } from './rest/routes.js';
import { mountHealth } from './http/health.js';

export interface RunningFerry {
  url: string;
  port: number;
  db: Database;
  services: Services;
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
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => log.error({ err }, 'shutdown step failed'));
  };
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
    const services = createServices({ orm: db.orm, config, log, sealer, signer, notify });
    const admin = await services.auth.ensureAdmin();
    const sweeper = setInterval(() => {
      services.auth.sweep().catch((err) => log.warn({ err }, 'auth sweep failed'));
    }, 3_600_000).unref();
    cleanups.push(async () => clearInterval(sweeper));

    const pubSub = createFerryPubSub();
    hub.on(LICENSE_CHANNEL, (id) => pubSub.publish(Topic.LicenseChanged, id));
    const schema = await buildFerrySchema(pubSub);
    const protection = armor.protect();

    let draining = false;
    const app = express();
    app.disable('x-powered-by');
    const httpServer = http.createServer(app);
    const ws = attachGraphqlWs({ httpServer, schema, services, hub, validationRules: protection.validationRules, log });
    cleanups.push(() => ws.close());

    const apollo = new ApolloServer<GraphQLContext>({
      schema,
      validationRules: protection.validationRules,
      allowBatchedHttpRequests: false,
      parseOptions: { maxTokens: MAX_TOKENS },
      // armor's typings resolve to Apollo's CommonJS build; the plugins are the same objects
      plugins: [...(protection.plugins as unknown as ApolloServerPlugin<GraphQLContext>[]), ApolloServerPluginDrainHttpServer({ httpServer })],
      formatError: maskUnexpectedErrors(log),
      includeStacktraceInErrorResponses: false,
      // `ferry serve` handles SIGTERM/SIGINT itself and must finish closing (embedded PostgreSQL included)
      stopOnTerminationSignals: false,
    });
    await apollo.start();
    cleanups.push(() => apollo.stop());

    mountHealth(app, db, () => draining);
    app.use(
      '/graphql',
      express.json({ limit: BODY_LIMIT_BYTES }),
      expressMiddleware(apollo, {
        context: async ({ req }) => {
          const token = tokenFrom(req.headers.authorization);
          if (!token) return { services };
          const result = await services.auth.authenticate(token);
          return result.ok ? { services, auth: result.value } : { services, authError: result.error };
        },
      }),
    );
    app.use(restRouter(services, log, restRoutes));
    app.use((_req, res) => {
      res.status(404).json({ Code: false, Msg: 'No such URL.', Data: null });
    });
    app.use((err: { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      if (err.type === 'entity.too.large') return void res.status(413).json({ errors: [{ message: 'The request body is larger than 1 MiB.' }] });
      if (err.status && err.status < 500) return void res.status(err.status).json({ errors: [{ message: 'The request could not be read.' }] });
      log.error({ err }, 'unhandled HTTP error');
      res.status(500).json({ Code: false, Msg: 'Internal error; the failure was logged.', Data: null });
    });

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    const { port } = httpServer.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return {
      url: `http://${host}:${port}`,
      port,
      db,
      services,
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
