import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A live graphql-ws subscription of a real client: what it received, and whether it ended. */
export interface LiveSubscription<T> {
  received: T[];
  errors: unknown[];
  /** resolves when the server completes the subscription */
  completed: Promise<void>;
  /** leaves, as a client closing its socket would */
  close(): Promise<void>;
}

/** Subscribes over WebSocket at `<base>/graphql` with the token in the connection params. */
export function subscribe<T, V extends Record<string, unknown>>(base: string, token: string, doc: TypedDocumentNode<T, V>, variables: V): LiveSubscription<T> {
  const client: Client = createClient({ url: `${base.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { Authorization: token }, retryAttempts: 0, lazy: false, onNonLazyError: () => {} });
  const received: T[] = [];
  const errors: unknown[] = [];
  const completed = new Promise<void>((resolve) => {
    client.subscribe<T>(
      { query: print(doc), variables },
      {
        next: (r) => (r.data ? received.push(r.data as T) : errors.push(r.errors)),
        error: (e) => {
          errors.push(e);
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return { received, errors, completed, close: async () => void (await client.dispose()) };
}
