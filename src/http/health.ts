import type { Express } from 'express';
import type { Database } from '../db/database.js';

/** `/healthz`: the process answers. `/readyz`: the database answers and every migration is applied. */
export function mountHealth(app: Express, db: Database, isDraining: () => boolean): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (isDraining()) return void res.status(503).json({ status: 'draining' });
    try {
      await db.orm.em.getConnection().execute('select 1');
      if (!(await db.isMigrated())) return void res.status(503).json({ status: 'migrations pending' });
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'database unreachable' });
    }
  });
}
