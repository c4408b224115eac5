import type { QueryResult } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { TransportEventReceipt } from '../../../entities/index.js';
import type { TransportEvent } from '../../transport/protocol.js';

/**
 * Runs for every new event a transport delivers, in the transaction that records its receipt,
 * so that what it writes and the receipt commit together (the task engine consumes cycle events here).
 */
export type TransportEventHook = (event: TransportEvent, em: EntityManager) => Promise<void>;

/** How long receipts are kept: a repeat can only come from a transport's outbox, which retries within these. */
const KEEP_PROGRESS_MS = 24 * 3_600_000;
const KEEP_OTHERS_MS = 30 * 24 * 3_600_000;

/** Receipts of delivered events, shared by every replica: de-duplication survives restarts. */
export class EventReceipts {
  constructor(private readonly orm: MikroORM) {}

  async seen(eventId: string): Promise<boolean> {
    return (await this.orm.em.fork().count(TransportEventReceipt, { eventId })) > 0;
  }

  /**
   * Records the receipt and marks the transport online, then runs the hooks, all in one
   * transaction; another replica recording the same event first makes this a no-op.
   */
  async record(event: TransportEvent, hooks: readonly TransportEventHook[]): Promise<void> {
    await this.orm.em.fork().transactional(async (em) => {
      const inserted = await em.execute<QueryResult>(
        `insert into transport_event_receipts (event_id, transport_id, type) values (?, ?, ?) on conflict (event_id) do nothing`,
        [event.id, event.transportId, event.type],
        'run',
      );
      if (!inserted.affectedRows) return;
      await em.execute(`update transport_servers set offline = false, last_seen_at = now() where transport_id = ?`, [event.transportId], 'run');
      for (const hook of hooks) await hook(event, em);
    });
  }

  /** Forgets old receipts: progress reports after a day, the others after 30 days. */
  async sweep(now = Date.now()): Promise<number> {
    const em = this.orm.em.fork();
    const progress = await em.execute<QueryResult>(`delete from transport_event_receipts where type = 'cycle.progress' and received_at < ?`, [new Date(now - KEEP_PROGRESS_MS)], 'run');
    const others = await em.execute<QueryResult>(`delete from transport_event_receipts where received_at < ?`, [new Date(now - KEEP_OTHERS_MS)], 'run');
    return (progress.affectedRows ?? 0) + (others.affectedRows ?? 0);
  }
}
