import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from '../src/config.js';
import type { TransportEvent } from '../src/transport/protocol.js';
import { signMessage } from '../src/transport/signing.js';
import { TransportClient } from '../src/transport/transport-client.js';
import { rest } from './support/clients.js';
import { adminToken, startTestFerry, type TestFerry } from './support/ferry.js';
import { freePort } from './support/ports.js';
import { makeImage, sha256, spawnFerry, type FerryProcess } from './support/transport-fixture.js';
import { until } from './support/wait.js';

const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';
const EVENTS_PATH = '/v1/transport-events';

describe('FERRY_CALLBACK_URL', () => {
  it('is an http(s) URL; one without a path gets the event path', () => {
    expect(configFromEnv({}).callbackUrl).toBeUndefined();
    expect(configFromEnv({ FERRY_CALLBACK_URL: 'http://10.0.0.5:8080' }).callbackUrl).toBe(`http://10.0.0.5:8080${EVENTS_PATH}`);
    expect(configFromEnv({ FERRY_CALLBACK_URL: 'https://ferry.example/hooks/transport' }).callbackUrl).toBe('https://ferry.example/hooks/transport');
    for (const bad of ['ftp://10.0.0.5/x', '10.0.0.5:8080', 'http://']) {
      expect(() => configFromEnv({ FERRY_CALLBACK_URL: bad }), bad).toThrow(new ConfigError(`FERRY_CALLBACK_URL must be an http(s) URL at which transport servers reach Ferry, such as http://10.0.0.5:8080${EVENTS_PATH}, got "${bad}"`));
    }
  });
});

describe('transport servers through the legacy REST API, with real transports', () => {
  let dir: string;
  let t: TestFerry;
  let token: string;
  let a: FerryProcess;
  let b: FerryProcess;
  let agent: FerryProcess;
  let cloudId: string;
  let aId: string;
  let bId: string;
  const lines: string[] = [];
  const secretsSeen = new Set<string>();
  const state = (name: string) => path.join(dir, name);
  const call = (body: Record<string, unknown>) => rest(t.url, '/MgmtTransportConnection', body, token);
  const add = (fields: Record<string, unknown> = {}) =>
    call({ Action: 'AddTransportServer', ServType: 'Cloud', Name: 'transport-a', CloudId: cloudId, MgntAddr: a.addr, ...fields });
  const list = async (filter: Record<string, unknown> = {}) => (await call({ Action: 'ListTransportServer', ...filter })).body.Data as Record<string, any>[];
  const sql = (query: string, params: unknown[] = []) => t.ferry.db.orm.em.getConnection().execute(query, params);
  /** the transport's own view of its pairing: its id and the secret it handed out */
  const pairingOf = async (stateDir: string) => {
    const pairing = JSON.parse(await readFile(path.join(stateDir, 'pairing.json'), 'utf8')) as { selfId: string; secret?: string };
    if (pairing.secret) secretsSeen.add(pairing.secret);
    return pairing;
  };
  const restart = async (p: FerryProcess, extra: string[] = []) => {
    await p.stop();
    return spawnFerry('transport', [...p.args, ...extra], p.port);
  };
  const postEvent = (body: string, headers: Record<string, string>) =>
    fetch(t.url + EVENTS_PATH, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-transports-rest-'));
    await makeImage(state('disk.img'), 4, [0, 2]);
    [a, b, agent] = await Promise.all([
      spawnFerry('transport', ['--state', state('a'), '--max-tasks', '3', '--storage-type', 'XSKY', '--storage-id', 'pool-7']),
      spawnFerry('transport', ['--state', state('b')]),
      spawnFerry('agent', ['--disk', state('disk.img'), '--state', state('agent')]),
    ]);
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
    t = await startTestFerry({}, pino({ level: 'trace' }, sink));
    token = await adminToken(t.url);
    // the cloud a Cloud transport runs in; its credentials are never used here
    cloudId = randomUUID();
    await sql(`insert into cloud_connections (id, name, cloud_type, cloud_user, cloud_pass_sealed, cloud_addr) values (?, 'target-cloud', 'Openstack', 'admin', 'v1.unused', '127.0.0.1')`, [cloudId]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), agent?.stop()]);
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses bad input naming the field and the rule, and neither stores nor pairs anything', async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ ServType: 'Hybrid' }, 400, /^ServType must be "On-Premises" or "Cloud" \(got "Hybrid"\)\.$/],
      [{ ServType: undefined }, 400, /^ServType is required\.$/],
      [{ Name: '' }, 400, /^Name must be 1–64 characters and not only spaces \(got 0 characters\)\.$/],
      [{ Name: '    ' }, 400, /^Name must be 1–64 characters/],
      [{ Name: 'n'.repeat(65) }, 400, /^Name must be 1–64 characters .*\(got 65 characters\)/],
      [{ CloudId: undefined }, 400, /^CloudId is required for a Cloud transport server/],
      [{ CloudId: null }, 400, /^CloudId is required for a Cloud transport server/],
      [{ CloudId: NO_SUCH_ID }, 404, /^CloudId names no cloud connection \(got "00000000-/],
      [{ CloudId: "1' or '1'='1" }, 404, /^CloudId names no cloud connection/],
      [{ ServType: 'on-premises' }, 400, /^CloudId must be empty for an On-Premises transport server/],
      [{ MgntAddr: `http://${'127.0.0.1'}:7002` }, 400, /^MgntAddr must be host or host:port, with a port between 1 and 65535 \(7002 when omitted\)/],
      [{ MgntAddr: '127.0.0.1:70000' }, 400, /^MgntAddr must be host or host:port/],
      [{ MgntAddr: '' }, 400, /^MgntAddr must be host or host:port/],
      [{ MgntAddr: 7002 }, 400, /^MgntAddr must be a string, not a number\.$/],
    ];
    for (const [fields, status, message] of cases) {
      const r = await add(fields);
      expect(r.status, JSON.stringify(fields)).toBe(status);
      expect(r.body).toEqual({ Code: false, Msg: expect.stringMatching(message), Data: null });
    }
    expect(await list()).toEqual([]);
    expect((await new TransportClient(a.addr).info()).paired).toBe(false);
  });

  it('refuses plainly an address where no transport answers, or where an agent does', async () => {
    const deadPort = await freePort();
    const dead = await add({ MgntAddr: `127.0.0.1:${deadPort}` });
    expect(dead.status).toBe(502);
    expect(dead.body).toEqual({ Code: false, Msg: expect.stringMatching(new RegExp(`^transport at 127\\.0\\.0\\.1:${deadPort} cannot be reached: .*ECONNREFUSED`)), Data: null });
    const notTransport = await add({ MgntAddr: agent.addr });
    expect(notTransport.status).toBe(502);
    expect(notTransport.body.Msg).toBe(`${agent.addr} is not a transport server: a Ferry agent answers there.`);

    const verifyDead = await call({ Action: 'VerifyTransportConnection', MgntAddr: `127.0.0.1:${deadPort}` });
    expect(verifyDead.status).toBe(502);
    expect(verifyDead.body.Msg).toMatch(/cannot be reached: .*ECONNREFUSED/);
    expect((await call({ Action: 'VerifyTransportConnection', MgntAddr: a.addr })).body).toEqual({ Code: true, Msg: 'Success.', Data: null });
    expect((await call({ Action: 'VerifyTransportConnection', MgntAddr: 'no spaces' })).status).toBe(400);
    expect(await list()).toEqual([]);
    expect((await new TransportClient(a.addr).info()).paired).toBe(false);
  });

  it('adds a transport by pairing with it; the transport then refuses any other controller, and the address cannot be added twice', async () => {
    const added = await add();
    expect(added.status).toBe(200);
    expect(added.body).toEqual({ Code: true, Msg: 'Add Transport Server Success.', Data: { ID: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
    aId = added.body.Data.ID;
    expect((await new TransportClient(a.addr).info()).paired).toBe(true);
    await expect(new TransportClient(a.addr).pair('another-ferry', 'http://127.0.0.1:9/events')).rejects.toMatchObject({ status: 409, detail: { error: 'paired-elsewhere' } });

    const pairing = await pairingOf(state('a'));
    expect((JSON.parse(await readFile(state('a/pairing.json'), 'utf8')) as { callbackUrl: string }).callbackUrl).toBe(`${t.url}${EVENTS_PATH}`);
    const [row] = await sql(`select transport_id, pairing_secret_sealed, storage_type, storage_id, max_supported_tasks, protocol_version from transport_servers where id = ?`, [aId]);
    expect(row).toMatchObject({ transport_id: pairing.selfId, storage_type: 'XSKY', storage_id: 'pool-7', max_supported_tasks: 3, protocol_version: '1' });

    const again = await add({ Name: 'again' });
    expect(again.status).toBe(409);
    expect(again.body.Msg).toBe(`A transport server at ${a.addr} is already registered ("transport-a").`);
    // the same transport under another name of its host: it answers, and says it is ours already
    const alias = await add({ Name: 'alias', MgntAddr: `localhost:${a.port}` });
    expect(alias.status).toBe(409);
    expect(alias.body.Msg).toMatch(/is already paired with this Ferry .*run `ferry transport --reset-pairing` \(with its --state\) on that machine/);
    expect(await list()).toHaveLength(1);
  });

  it('refuses a transport paired with another controller until its pairing is reset on its machine', async () => {
    await new TransportClient(b.addr).pair('another-ferry', 'http://127.0.0.1:9/events');
    const onPrem = { ServType: 'On-Premises', Name: 'transport-b', CloudId: null, MgntAddr: b.addr };
    const verified = await call({ Action: 'VerifyTransportConnection', MgntAddr: b.addr });
    expect(verified.status).toBe(409);
    expect(verified.body.Msg).toMatch(/is already paired with a controller .*run `ferry transport --reset-pairing`/);
    const refused = await add(onPrem);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ Code: false, Msg: `transport at ${b.addr} is paired with another controller; to register it here, run \`ferry transport --reset-pairing\` (with its --state) on that machine, then try again.`, Data: null });
    expect(await list()).toHaveLength(1);
    b = await restart(b, ['--reset-pairing']);
    const added = await add(onPrem);
    expect(added.body.Code).toBe(true);
    bId = added.body.Data.ID;
  });

  it('lists transport servers in the documented shape with the load they report now, filtered by address, name and type', async () => {
    // stored values that the live answers must replace
    await sql(`update transport_servers set current_tasks = 5`);
    const all = await list();
    expect(all).toEqual([
      { Id: aId, Name: 'transport-a', CloudName: 'target-cloud', ServType: 'Cloud', MgntAddr: a.addr, CreatedTime: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), MaxSupportedTasks: 3, CurrentTasks: 0, StorageId: 'pool-7', StorageType: 'XSKY', Offline: false },
      { Id: bId, Name: 'transport-b', CloudName: null, ServType: 'On-Premises', MgntAddr: b.addr, CreatedTime: expect.any(String), MaxSupportedTasks: 4, CurrentTasks: 0, StorageId: expect.any(String), StorageType: 'LOCAL', Offline: false },
    ]);
    expect(Object.keys(all[0])).toEqual(['Id', 'Name', 'CloudName', 'ServType', 'MgntAddr', 'CreatedTime', 'MaxSupportedTasks', 'CurrentTasks', 'StorageId', 'StorageType', 'Offline']);
    const names = async (filter: Record<string, unknown>) => (await list(filter)).map((x) => x.Name);
    expect(await names({ Ip: String(a.port) })).toEqual(['transport-a']);
    expect(await names({ Ip: '127.0.0' })).toEqual(['transport-a', 'transport-b']);
    expect(await names({ Ip: '10.9.9.9' })).toEqual([]);
    expect(await names({ Name: 'PORT-B' })).toEqual(['transport-b']);
    expect(await names({ ServType: 'cloud' })).toEqual(['transport-a']);
    expect(await names({ ServType: 'ON-PREMISES', Name: 'transport' })).toEqual(['transport-b']);
    const badType = await call({ Action: 'ListTransportServer', ServType: 'hybrid' });
    expect(badType.status).toBe(400);
    expect(badType.body.Msg).toMatch(/^ServType must be "On-Premises" or "Cloud"/);

    // a transport that does not answer shows what was stored, marked offline
    await sql(`update transport_servers set current_tasks = 2 where id = ?`, [bId]);
    await b.stop();
    const started = Date.now();
    const [, silent] = await list();
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(silent).toMatchObject({ Name: 'transport-b', Offline: true, CurrentTasks: 2 });
    expect((await sql(`select offline from transport_servers where id = ?`, [bId]))[0].offline).toBe(true);
  });

  it('refreshes what a transport reports, marks a silent one offline, and pairs again after a local reset', async () => {
    await sql(`update transport_servers set max_supported_tasks = 0, storage_id = 'stale', last_seen_at = null where id = ?`, [aId]);
    expect((await call({ Action: 'RefreshTransportServer', Id: aId })).body).toEqual({ Code: true, Msg: 'Refresh Transport Server Success.', Data: null });
    const [row] = await sql(`select max_supported_tasks, storage_id, offline, last_seen_at from transport_servers where id = ?`, [aId]);
    expect(row).toMatchObject({ max_supported_tasks: 3, storage_id: 'pool-7', offline: false });
    expect(row.last_seen_at).not.toBeNull();

    // b is still stopped
    const silent = await call({ Action: 'RefreshTransportServer', Id: bId });
    expect(silent.status).toBe(502);
    expect(silent.body.Msg).toMatch(new RegExp(`^transport at 127\\.0\\.0\\.1:${b.port} cannot be reached`));
    b = await restart(b);
    expect((await call({ Action: 'RefreshTransportServer', Id: bId })).body.Code).toBe(true);
    expect((await sql(`select offline from transport_servers where id = ?`, [bId]))[0].offline).toBe(false);

    // reset on its machine: Ferry's secret no longer works, until a refresh pairs again
    const before = await pairingOf(state('b'));
    b = await restart(b, ['--reset-pairing']);
    const stale = await call({ Action: 'VerifyTransportConnection', MgntAddr: b.addr });
    expect(stale.status).toBe(502);
    expect(stale.body.Msg).toMatch(/refuses Ferry's signature \(not paired yet.*\): its pairing was reset or changed/);
    expect((await call({ Action: 'RefreshTransportServer', Id: bId })).body.Code).toBe(true);
    const after = await pairingOf(state('b'));
    expect(after.selfId).toBe(before.selfId);
    expect(after.secret).not.toBe(before.secret);
    expect((await call({ Action: 'VerifyTransportConnection', MgntAddr: b.addr })).body.Code).toBe(true);

    for (const id of [NO_SUCH_ID, 'not-a-uuid']) {
      const missing = await call({ Action: 'RefreshTransportServer', Id: id });
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ Code: false, Msg: `There is no transport server ${id}.`, Data: null });
    }
  });

  it('renames a transport server', async () => {
    expect((await call({ Action: 'UpdateTransportServer', Id: bId, Name: '  renamed-b  ' })).body).toEqual({ Code: true, Msg: 'Update Transport Server Success.', Data: null });
    expect((await list({ Name: 'renamed' })).map((x) => x.Name)).toEqual(['renamed-b']);
    const empty = await call({ Action: 'UpdateTransportServer', Id: bId, Name: ' ' });
    expect(empty.status).toBe(400);
    expect(empty.body.Msg).toMatch(/^Name must be 1–64 characters/);
    expect((await call({ Action: 'UpdateTransportServer', Id: NO_SUCH_ID, Name: 'x' })).status).toBe(404);
  });

  it('refuses to delete a transport server a source host uses, naming the host; then deletes it', async () => {
    await sql(`insert into source_hosts (id, name, agent, transport_id) values (gen_random_uuid(), 'web-1', true, ?)`, [bId]);
    const refused = await call({ Action: 'DeleteTransportServer', Id: bId });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ Code: false, Msg: 'Transport server "renamed-b" is still used by a source host ("web-1"); delete it first.', Data: null });
    expect(await list()).toHaveLength(2);
    await sql(`delete from source_hosts where name = 'web-1'`);
    expect((await call({ Action: 'DeleteTransportServer', Id: bId })).body).toEqual({ Code: true, Msg: 'Delete Transport Server Success.', Data: null });
    expect((await list()).map((x) => x.Name)).toEqual(['transport-a']);
    expect((await call({ Action: 'DeleteTransportServer', Id: bId })).status).toBe(404);
  });

  it('accepts an event signed by a paired transport once, and refuses forged ones and unknown transports', async () => {
    const { selfId, secret } = await pairingOf(state('a'));
    await sql(`update transport_servers set offline = true, last_seen_at = null where id = ?`, [aId]);
    const event = (fields: Partial<TransportEvent> = {}) =>
      JSON.stringify({ id: randomUUID(), seq: 1, transportId: selfId, at: new Date().toISOString(), type: 'cycle.cancelled', taskId: 'task-x', cycleId: 'cycle-x', ...fields });
    const body = event();
    const headers = signMessage(secret!, 'POST', EVENTS_PATH, body);
    const first = await postEvent(body, headers);
    expect([first.status, await first.json()]).toEqual([200, { ok: true }]);
    const repeat = await postEvent(body, signMessage(secret!, 'POST', EVENTS_PATH, body));
    expect([repeat.status, await repeat.json()]).toEqual([200, { ok: true, message: 'duplicate' }]);
    const receipts = await sql(`select transport_id, type from transport_event_receipts where event_id = ?`, [JSON.parse(body).id]);
    expect(receipts).toEqual([{ transport_id: selfId, type: 'cycle.cancelled' }]);
    const [row] = await sql(`select offline, last_seen_at from transport_servers where id = ?`, [aId]);
    expect(row.offline).toBe(false);
    expect(row.last_seen_at).not.toBeNull();

    const refusals: [string, Record<string, string>, string][] = [];
    const forged = event();
    refusals.push([forged, signMessage('not-the-pairing-secret', 'POST', EVENTS_PATH, forged), 'bad signature']);
    const tampered = event();
    refusals.push([tampered.replace('task-x', 'task-y'), signMessage(secret!, 'POST', EVENTS_PATH, tampered), 'bad signature']);
    const otherPath = event();
    refusals.push([otherPath, signMessage(secret!, 'POST', '/v1/other', otherPath), 'bad signature']);
    const stranger = event({ transportId: 'no-such-transport' });
    refusals.push([stranger, signMessage(secret!, 'POST', EVENTS_PATH, stranger), 'unknown transport']);
    refusals.push([body, headers, 'replayed: this nonce was already used']);
    for (const [sent, signed, message] of refusals) {
      const r = await postEvent(sent, signed);
      expect([r.status, await r.json()], message).toEqual([401, { ok: false, message }]);
    }
    expect((await sql(`select count(*)::int as n from transport_event_receipts`))[0].n).toBe(1);
    expect((await postEvent('{"not":"an event"}', {})).status).toBe(400);

    // receipts are kept long enough for any repeat, then swept
    await sql(`insert into transport_event_receipts (event_id, transport_id, type, received_at) values ('old-progress', ?, 'cycle.progress', now() - interval '2 days'), ('old-finished', ?, 'cycle.finished', now() - interval '31 days')`, [selfId, selfId]);
    expect(await t.ferry.services.transports.sweepEventReceipts()).toBe(2);
    expect((await sql(`select count(*)::int as n from transport_event_receipts`))[0].n).toBe(1);
  });

  it('hears the events of a real cycle run through the service’s client, and shows the transport busy meanwhile', async () => {
    const { selfId } = await pairingOf(state('a'));
    const heard: TransportEvent[] = [];
    t.ferry.services.transports.onTransportEvent.push(async (e) => void heard.push(e));
    const client = await t.ferry.services.transports.clientOf(aId);
    if (!client.ok) throw new Error(client.error.message);
    const target = state('target.img');
    // 2 MiB of data at 1 MB/s: the cycle runs for about two seconds
    await client.value.startCycle({ cycleId: 'cycle-1', taskId: 'task-1', agentAddr: agent.addr, kind: 'full', disks: [{ disk: state('disk.img'), targetPath: target }], qosMBps: 1 });
    expect((await list())[0]).toMatchObject({ Name: 'transport-a', CurrentTasks: 1, MaxSupportedTasks: 3 });
    const finished = async () => (await sql(`select count(*)::int as n from transport_event_receipts where transport_id = ? and type = 'cycle.finished'`, [selfId]))[0].n;
    await until(async () => (await finished()) === 1, 20_000);
    expect(heard.find((e) => e.type === 'cycle.finished')).toMatchObject({ cycleId: 'cycle-1', taskId: 'task-1', transportId: selfId });
    expect(await sha256(target)).toBe(await sha256(state('disk.img')));
    // the transport reports the event before it marks the cycle ended
    await until(async () => (await list())[0].CurrentTasks === 0, 5_000);
    expect((await t.ferry.services.transports.clientOf(NO_SUCH_ID)).ok).toBe(false);
  });

  it('never writes a pairing secret in clear to the database, an answer or a log line', async () => {
    await pairingOf(state('a'));
    await pairingOf(state('b'));
    expect(secretsSeen.size).toBeGreaterThanOrEqual(3);
    const rows = await sql(`select * from transport_servers`);
    expect(rows[0].pairing_secret_sealed).toMatch(/^v1\./);
    const answers = JSON.stringify(await list());
    const log = lines.join('');
    expect(log).toContain('transport server added');
    expect(log).toContain('transport server paired again after a local reset');
    for (const secret of secretsSeen) {
      expect(JSON.stringify(rows)).not.toContain(secret);
      expect(answers).not.toContain(secret);
      expect(log).not.toContain(secret);
    }
  });
});
