import express from 'express';
import type { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import type { Database } from '../db/database.js';
import type { GraphQLContext } from '../graphql/context.js';
import { createLoaders } from '../graphql/loaders.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services/index.js';
import { restRouter, BODY_LIMIT_BYTES } from '../rest/router.js';
import { restRoutes } from '../rest/routes.js';
import { tokenFrom } from './authorization.js';
import { mountHealth } from './health.js';
import { mountTransportEvents } from './transport-events.js';

/** The HTTP routes: health, GraphQL on /graphql, transport events, the legacy REST URLs, and plain refusals for the rest. */
export function createHttpApp(opts: { db: Database; services: Services; apollo: ApolloServer<GraphQLContext>; log: Logger; isDraining: () => boolean }): express.Express {
  const { services, log } = opts;
  const app = express();
  app.disable('x-powered-by');
  mountHealth(app, opts.db, opts.isDraining);
  app.use(
    '/graphql',
    express.json({ limit: BODY_LIMIT_BYTES }),
    expressMiddleware(opts.apollo, {
      context: async ({ req }): Promise<GraphQLContext> => {
        const token = tokenFrom(req.headers.authorization);
        const loaders = createLoaders(services);
        if (!token) return { services, loaders };
        const result = await services.auth.authenticate(token);
        return result.ok ? { services, loaders, auth: result.value } : { services, loaders, authError: result.error };
      },
    }),
  );
  mountTransportEvents(app, services, log);
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
  return app;
}
