import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_PROGRESS_CHANNEL, type ProgressView } from '../src/engine/progress.js';
import { startTestFerry, type TestFerry } from './support/ferry.js';
import { sleep, until } from './support/wait.js';

/** Progress coalescing, through real PostgreSQL notifications into a running Ferry's feeds. */
describe('taskProgress feeds: each task at most once an interval, its latest report winning', () => {
  let t: TestFerry;
  const report = (taskId: string, n: number): ProgressView => ({ taskId, percent: n, snapshotSize: 100, transferredSize: n, predictDoneSeconds: null, disks: [], at: new Date().toISOString() });
  const notify = (view: ProgressView) => t.ferry.db.orm.em.getConnection().execute('select pg_notify(?, ?)', [TASK_PROGRESS_CHANNEL, JSON.stringify(view)]);

  beforeAll(async () => {
    t = await startTestFerry();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sends a burst of one task as its first report then its latest, an interval apart, while another task is not held back', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const feed = t.ferry.feeds.progress([a, b], 600);
    const got: { at: number; views: ProgressView[] }[] = [];
    const reading = (async () => {
      for await (const batch of feed) got.push({ at: Date.now(), views: batch });
    })();
    await sleep(200); // joined; no rows for these ids, so no current state is sent

    const started = Date.now();
    await notify(report(a, 1));
    await until(() => got.length === 1, 2_000);
    for (let n = 2; n <= 10; n++) await notify(report(a, n));
    await sleep(100);
    await notify(report(b, 1)); // b has its own interval: it does not wait for a's
    await until(() => got.length === 2, 2_000);
    await until(() => got.length === 3, 2_000);

    expect(got[0].views.map((v) => [v.taskId, v.transferredSize])).toEqual([[a, 1]]);
    expect(got[1].views.map((v) => [v.taskId, v.transferredSize])).toEqual([[b, 1]]);
    expect(got[1].at - started).toBeLessThan(500);
    expect(got[2].views.map((v) => [v.taskId, v.transferredSize])).toEqual([[a, 10]]);
    expect(got[2].at - got[0].at).toBeGreaterThanOrEqual(590);
    await sleep(700);
    expect(got).toHaveLength(3); // reports 2–9 of a were dropped, not delayed

    await feed.return(undefined);
    await reading;
    expect(t.ferry.feeds.openProgressFeeds).toBe(0);
  });
});
