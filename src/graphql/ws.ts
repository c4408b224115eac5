import type { Server } from 'node:http';
import { GraphQLError, parse, specifiedRules, validate, type GraphQLSchema, type ValidationRule } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from '../logger.js';
import type { NotificationHub } from '../db/notifications.js';
import type { AuthInfo, Services } from '../services/index.js';
import { SESSION_REVOKED_CHANNEL } from '../services/auth/auth-service.js';
import { tokenFrom } from '../http/authorization.js';
import type { GraphQLContext } from './context.js';
import { createLoaders } from './loaders.js';
import { MAX_TOKENS } from './limits.js';
import type { TaskFeeds } from '../engine/task-feeds.js';
import { subscribeShared } from './shared-subscribe.js';

/** WebSocket close codes: 4401 no valid token (or it expired / was revoked), 4403 refused. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;

interface ConnectionState {
  auth?: AuthInfo;
  expiryTimer?: NodeJS.Timeout;
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol; cut on whole characters. */
function reason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = Array.from(out).slice(0, -1).join('');
  return out;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Closes the socket when its token expires; timers longer than Node allows are re-armed. */
function closeAtExpiry(socket: WebSocket, connection: ConnectionState, expiresAt: Date): void {
  const left = expiresAt.getTime() - Date.now();
  connection.expiryTimer = left > MAX_TIMER_MS
    ? setTimeout(() => closeAtExpiry(socket, connection, expiresAt), MAX_TIMER_MS)
    : setTimeout(() => socket.close(CLOSE_UNAUTHORIZED, reason('The token has expired; please log in again.')), Math.max(0, left));
}


/**
 * graphql-ws on the GraphQL path: the token comes in `connection_init`
 * (`connectionParams.Authorization`); the socket closes when the token expires or its session ends.
 */
export function attachGraphqlWs(opts: {
  httpServer: Server;
  schema: GraphQLSchema;
  services: Services;
  hub: NotificationHub;
  feeds: TaskFeeds;
  validationRules: ValidationRule[];
  log: Logger;
}): { close(): Promise<void> } {
  const { services, log } = opts;
  const wss = new WebSocketServer({ server: opts.httpServer, path: '/graphql', maxPayload: 1024 * 1024 });
  const bySession = new Map<string, Set<WebSocket>>();
  const state = new WeakMap<WebSocket, ConnectionState>();

  const stopRevocationWatch = opts.hub.on(SESSION_REVOKED_CHANNEL, (sessionId) => {
    for (const socket of bySession.get(sessionId) ?? []) socket.close(CLOSE_UNAUTHORIZED, reason('The session has ended (logged out); please log in again.'));
  });

  const rules = [...specifiedRules, ...opts.validationRules];
  const server = useServer<Record<string, unknown> | undefined>(
    {
      schema: opts.schema,
      validate: (schema, document) => validate(schema, document, rules),
      // one execution of an event for all the subscribers it reaches, where the field allows it
      subscribe: subscribeShared,
      // called for every operation on the socket: fresh loaders each time
      context: (ctx): GraphQLContext => ({ services, loaders: createLoaders(services), feeds: opts.feeds, auth: state.get(ctx.extra.socket)?.auth }),
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const header = ctx.connectionParams?.Authorization ?? ctx.connectionParams?.authorization;
        const token = tokenFrom(typeof header === 'string' ? header : undefined);
        const result = await services.auth.authenticate(token);
        if (socket.readyState !== socket.OPEN) return false; // the client left while we checked
        if (!result.ok) {
          socket.close(CLOSE_UNAUTHORIZED, reason(result.error.message));
          return false;
        }
        const auth = result.value;
        if (auth.isFirstLogin) {
          socket.close(CLOSE_FORBIDDEN, reason('Change the initial password first.'));
          return false;
        }
        const connection: ConnectionState = { auth };
        state.set(socket, connection);
        const sockets = bySession.get(auth.sessionId) ?? new Set();
        sockets.add(socket);
        bySession.set(auth.sessionId, sockets);
        closeAtExpiry(socket, connection, auth.expiresAt);
        socket.once('close', () => {
          clearTimeout(connection.expiryTimer);
          sockets.delete(socket);
          if (sockets.size === 0) bySession.delete(auth.sessionId);
        });
        // a logout that landed while we were checking is caught by looking once more
        const again = await services.auth.authenticate(token);
        if (!again.ok) {
          socket.close(CLOSE_UNAUTHORIZED, reason(again.error.message));
          return false;
        }
        return true;
      },
      onSubscribe: (_ctx, _id, payload) => {
        // parse here so that a syntax error or an oversized document answers this operation
        // with an error instead of closing the whole socket
        try {
          parse(payload.query, { maxTokens: MAX_TOKENS });
        } catch (err) {
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
        return undefined;
      },
      onError: (_ctx, _id, _payload, errors) => {
        log.debug({ errors: errors.map((e) => e.message) }, 'graphql-ws operation refused');
      },
    },
    wss,
  );

  return {
    async close() {
      stopRevocationWatch();
      for (const client of wss.clients) client.close(1001, 'Ferry is shutting down');
      await server.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
