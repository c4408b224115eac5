import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import WebSocket from 'ws';

export interface RestReply {
  status: number;
  headers: Headers;
  /** the parsed JSON body */
  body: any;
  /** the body exactly as sent */
  text: string;
}

/** POSTs to a legacy URL as the old clients do: JSON body, bare token in `Authorization`. */
export async function rest(base: string, path: string, body: unknown, token?: string): Promise<RestReply> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...(token ? { Authorization: token } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export interface GraphQLReply<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Runs a typed operation over HTTP. */
export async function graphql<T, V>(base: string, doc: TypedDocumentNode<T, V>, variables?: V, token?: string): Promise<GraphQLReply<T>> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: token } : {}) },
    body: JSON.stringify({ query: print(doc), variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

/** Opens a raw graphql-transport-ws socket, sends connection_init, and reports how it ends. */
export function wsHandshake(base: string, connectionParams?: Record<string, unknown>): Promise<{ acked: boolean; socket: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })));
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === 'connection_ack') resolve({ acked: true, socket, closed });
    });
    closed.then(() => resolve({ acked: false, socket, closed }));
  });
}
