import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyTime } from '../src/rest/legacy-time.js';
import { TasksDocument } from './generated/graphql.js';
import { graphql } from './support/clients.js';
import { startTaskWorld, type TaskWorld } from './support/task-fixture.js';
import { spawnFerry, type FerryProcess } from './support/transport-fixture.js';

/** ListTasks and the tasks connection over several tasks: order, pages, filters, counts, and the license running out. */
describe('listing tasks, page by page', () => {
  let w: TaskWorld;
  const agents: FerryProcess[] = [];
  const hostIds: string[] = [];

  beforeAll(async () => {
    w = await startTaskWorld();
    hostIds.push(w.hostId);
    for (const name of ['db-1', 'db-2', 'app-1']) {
      const image = path.join(w.dir, `${name}.img`);
      execFileSync('truncate', ['-s', '8M', image]);
      const agent = await spawnFerry('agent', ['--disk', image, '--state', path.join(w.dir, `agent-${name}`)]);
      agents.push(agent);
      const host = await w.call({ Action: 'AddPackerHost', Name: name, TransId: w.transportId, MgntAddr: agent.addr }, '/portal/MgmtHostConnection');
      expect(host.body.Code, host.text).toBe(true);
      hostIds.push(host.body.Data.ID);
    }
  }, 90_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await w?.close();
  });

  // tasks that start tomorrow: nothing runs, the listing is all there is to see
  const prepare = (name: string, hostId: string, priority: number) =>
    w.call({ Action: 'PrepareTaskWorkload', Name: name, Priority: priority, HostId: hostId, CloudId: w.cloudId, TargetTransId: w.transportId, IntervalMinutes: 60, MaxSnapsNum: 2, StartTime: legacyTime(new Date(Date.now() + 86_400_000)), NetworkId: w.networkId });
  const list = async (fields: Record<string, unknown> = {}) => {
    const r = await w.call({ Action: 'ListTasks', ...fields });
    expect(r.status, r.text).toBe(200);
    return r.body.Data as { AgentTasks: { Name: string; Id: string; HostName: string; ActionState: number }[]; TaskTotal: number; TaskInProcess: number; TaskDone: number; VSTasks: unknown[] };
  };

  it('uses one credit per task and refuses a task once the license has none left, creating nothing', async () => {
    const plan: [string, number][] = [['move-web-1', 5], ['move-db-1', 9], ['move-db-2', 5]];
    for (const [i, [name, priority]] of plan.entries()) {
      const r = await prepare(name, hostIds[i], priority);
      expect(r.body, r.text).toMatchObject({ Code: 0 });
    }
    const over = await prepare('move-app-1', hostIds[3], 1);
    expect(over.status).toBe(403);
    expect(over.body.Msg).toBe('All 3 credits of the license are used.');
    expect((await list()).TaskTotal).toBe(3);
    expect((await w.call({ Action: 'GetLicense' }, '/MgntSetting')).body.Data).toMatchObject({ Credits: 3, Used: 3 });
  });

  it('orders by priority, then newest first, and pages with PageLimit and PageNum', async () => {
    const all = await list();
    expect(all.AgentTasks.map((t) => t.Name)).toEqual(['move-db-1', 'move-db-2', 'move-web-1']);
    expect(all).toMatchObject({ TaskTotal: 3, TaskInProcess: 0, TaskDone: 0, VSTasks: [] });
    expect(all.AgentTasks.map((t) => t.ActionState)).toEqual([1000, 1000, 1000]);

    const pages = [await list({ PageLimit: 2, PageNum: 1 }), await list({ PageLimit: 2, PageNum: 2 }), await list({ PageLimit: 2, PageNum: 3 })];
    expect(pages.map((p) => p.AgentTasks.map((t) => t.Name))).toEqual([['move-db-1', 'move-db-2'], ['move-web-1'], []]);
    expect(pages.map((p) => p.TaskTotal)).toEqual([3, 3, 3]);
  });

  it('filters by task name and source host name (substring, any case), counting only what matches', async () => {
    expect((await list({ Name: 'DB' })).AgentTasks.map((t) => t.Name)).toEqual(['move-db-1', 'move-db-2']);
    expect(await list({ Name: 'DB' })).toMatchObject({ TaskTotal: 2 });
    expect((await list({ SrcHost: 'web' })).AgentTasks.map((t) => t.HostName)).toEqual(['web-1']);
    expect(await list({ Name: 'move', SrcHost: 'db-2' })).toMatchObject({ TaskTotal: 1, AgentTasks: [{ Name: 'move-db-2' }] });
    expect(await list({ Name: '%' })).toMatchObject({ TaskTotal: 0, AgentTasks: [] }); // a LIKE wildcard is matched literally
  });

  it('refuses a bad page, naming the field and the rule', async () => {
    for (const [fields, message] of [
      [{ PageNum: 0 }, /^PageNum must be a whole number from 1/],
      [{ PageLimit: 0 }, /^PageLimit must be a whole number from 1 to 1000/],
      [{ PageLimit: 'ten' }, /^PageLimit/],
    ] as const) {
      const r = await w.call({ Action: 'ListTasks', ...fields });
      expect(r.status, JSON.stringify(fields)).toBe(400);
      expect(r.body.Msg).toMatch(message);
    }
  });

  it('pages the GraphQL tasks connection with cursors, filtered the same way', async () => {
    const first = await graphql(w.t.url, TasksDocument, { first: 2 }, w.token);
    expect(first.data?.tasks.totalCount).toBe(3);
    expect(first.data?.tasks.pageInfo.hasNextPage).toBe(true);
    const rest = await graphql(w.t.url, TasksDocument, { first: 2, after: first.data!.tasks.pageInfo.endCursor }, w.token);
    expect(rest.data?.tasks.pageInfo.hasNextPage).toBe(false);
    const names = [...first.data!.tasks.edges, ...rest.data!.tasks.edges].map((e) => e.node.name);
    expect(names.sort()).toEqual(['move-db-1', 'move-db-2', 'move-web-1']);
    const filtered = await graphql(w.t.url, TasksDocument, { sourceHostName: 'DB-' }, w.token);
    expect(filtered.data?.tasks.edges.map((e) => e.node.name).sort()).toEqual(['move-db-1', 'move-db-2']);
    expect(filtered.data?.tasks.totalCount).toBe(2);
  });

  it('gives the credit back when a task that has not started is deleted, so the refused task can now be made', async () => {
    const [db2] = (await list({ Name: 'move-db-2' })).AgentTasks;
    expect((await w.call({ Action: 'DeleteTask', Id: db2.Id })).body.Code).toBe(true);
    expect((await w.call({ Action: 'GetLicense' }, '/MgntSetting')).body.Data).toMatchObject({ Used: 2 });
    expect((await prepare('move-app-1', hostIds[3], 1)).body).toMatchObject({ Code: 0 });
    expect((await list()).AgentTasks.map((t) => t.Name)).toEqual(['move-db-1', 'move-web-1', 'move-app-1']);
  });
});
