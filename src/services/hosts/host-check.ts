import type { Logger } from '../../logger.js';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { HostService } from './host-service.js';

/** The advisory lock key of the agent check: one Ferry replica runs it at a time. */
const HOST_CHECK_LOCK = 7_001_001;

/**
 * Every `seconds`, asks each agent host's transport whether its agent answers, so that a silent
 * agent shows Offline within a minute. A transaction-level advisory lock keeps the other replicas
 * out while one runs it; they skip that round instead of waiting.
 */
export function startHostCheck(orm: MikroORM, hosts: HostService, seconds: number, log: Logger): () => Promise<void> {
  let running: Promise<void> | undefined;
  const round = async () => {
    await orm.em.fork().transactional(async (tx) => {
      const [row] = await tx.getConnection().execute<{ got: boolean }[]>('select pg_try_advisory_xact_lock(?) as got', [HOST_CHECK_LOCK], 'all', tx.getTransactionContext());
      if (row?.got) await hosts.checkAgents();
    });
  };
  const timer = setInterval(() => {
    if (running) return;
    running = round()
      .catch((err) => log.warn({ err }, 'agent host check failed'))
      .finally(() => (running = undefined));
  }, seconds * 1000).unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
