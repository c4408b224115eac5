import pg from 'pg';
import type { Logger } from '../logger.js';

type Handler = (payload: string) => void;

/**
 * Listens on PostgreSQL channels with one dedicated connection, so that every Ferry process
 * sharing the database hears what any of them changed. Reconnects with backoff; after a
 * reconnect every handler is called with '' so that listeners re-read what they might have missed.
 */
export class NotificationHub {
  private client?: pg.Client;
  private readonly handlers = new Map<string, Set<Handler>>();
  private closed = false;
  private retryMs = 200;
  private timer?: NodeJS.Timeout;
  /** LISTENs run one after another: pg deprecates queueing a query while another runs */
  private listens: Promise<unknown> = Promise.resolve();

  constructor(private readonly url: string, private readonly log: Logger) {}

  async start(): Promise<void> {
    await this.connect();
  }

  on(channel: string, handler: Handler): () => void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      const client = this.client;
      if (client) this.listens = this.listens.then(() => client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)).catch((err) => this.log.warn({ err }, 'LISTEN failed'));
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'ferry-listen' });
    client.on('notification', (msg) => this.dispatch(msg.channel, msg.payload ?? ''));
    client.on('error', (err) => this.reconnect(client, err));
    client.on('end', () => this.reconnect(client));
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    this.client = client;
    this.listens = Promise.resolve();
    this.retryMs = 200;
  }

  private reconnect(client: pg.Client, err?: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    this.log.warn({ err: err?.message }, 'notification connection lost; reconnecting');
    client.end().catch(() => undefined);
    this.scheduleConnect();
  }

  private scheduleConnect(): void {
    this.timer = setTimeout(async () => {
      if (this.closed) return;
      try {
        await this.connect();
        for (const channel of this.handlers.keys()) this.dispatch(channel, '');
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'notification connection failed; retrying');
        this.retryMs = Math.min(this.retryMs * 2, 10_000);
        this.scheduleConnect();
      }
    }, this.retryMs);
  }

  private dispatch(channel: string, payload: string): void {
    for (const handler of this.handlers.get(channel) ?? []) {
      try {
        handler(payload);
      } catch (err) {
        this.log.error({ err, channel }, 'notification handler failed');
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.client?.end().catch(() => undefined);
  }
}
