import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireTicket, datacenterPathOf, datastoreUrl, parseDatastorePath } from '../src/drivers/vsphere/datastore-files.js';
import { readInventory, type InventoryVm } from '../src/drivers/vsphere/inventory.js';
import { VimSession } from '../src/drivers/vsphere/vim-session.js';
import type { CycleRequest, DatastoreExtent } from '../src/transport/protocol.js';
import { PeerError } from '../src/transport/signed-http.js';
import type { TransportClient } from '../src/transport/transport-client.js';
import { EventSink, pairedTransport, rewriteBlocks, sha256, spawnFerry, waitForCycle, type FerryProcess } from './support/transport-fixture.js';
import { spawnVcsim, type VcsimProcess } from './support/vcsim.js';
import { sleep } from './support/wait.js';

const MiB = 1024 * 1024;
const DISK_MB = 16;

describe('a transport reading a vSphere VM disk from its datastore, without an agent', () => {
  let dir: string;
  let vc: VcsimProcess;
  let session: VimSession;
  let transport: FerryProcess;
  let sink: EventSink;
  let client: TransportClient;
  let vm: InventoryVm;
  let flatFile: string;
  let dcPath: string;
  let seq = 0;

  /** the flat extent of the VM's disk with a fresh one-time ticket, as Ferry hands it over */
  const extent = async (): Promise<DatastoreExtent> => {
    const where = parseDatastorePath(vm.disks[0].fileName)!;
    const url = datastoreUrl(session, dcPath, where.datastore, where.path.replace(/\.vmdk$/, '-flat.vmdk'));
    return { url: url.href, ticket: await acquireTicket(session, url), sizeBytes: DISK_MB * MiB };
  };
  const cycle = async (target: string, more: Partial<CycleRequest> = {}): Promise<CycleRequest> => ({
    cycleId: `ds-cycle-${++seq}`,
    taskId: `ds-task-${seq}`,
    datastore: { certificateSha256: vc.sha256 },
    kind: 'full',
    disks: [{ disk: vm.disks[0].fileName, targetPath: target, datastore: await extent() }],
    ...more,
  });
  const run = async (request: CycleRequest) => {
    await client.startCycle(request);
    return waitForCycle(client, request.cycleId);
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-datastore-'));
    vc = await spawnVcsim({ mode: 'esx', vms: 1, diskMb: DISK_MB });
    session = await VimSession.open({ address: vc.url, userName: vc.username, password: vc.password, pinnedSha256: vc.sha256 });
    vm = (await readInventory(session)).vms[0];
    dcPath = await datacenterPathOf(session, { type: 'VirtualMachine', value: vm.moref });
    const where = parseDatastorePath(vm.disks[0].fileName)!;
    const ds = vc.datastores.find((d) => d.name === where.datastore)!;
    flatFile = path.join(ds.path, where.path.replace(/\.vmdk$/, '-flat.vmdk'));
    await rewriteBlocks(flatFile, [0, 1, 5, 9, 15]);
    transport = await spawnFerry('transport', ['--state', path.join(dir, 'transport-state'), '--max-tasks', '4']);
    sink = await EventSink.create();
    client = await pairedTransport(transport.addr, sink);
  }, 90_000);
  afterAll(async () => {
    await session?.close();
    await transport?.stop();
    await sink?.down();
    await vc?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('copies the disk in full, then writes only the changed blocks', async () => {
    expect(dcPath).toBe('ha-datacenter');
    const target = path.join(dir, 'vm.target');
    const full = await run(await cycle(target));
    expect(full.state).toBe('finished');
    expect(full.disks[0]).toMatchObject({ sizeBytes: DISK_MB * MiB, sentBlocks: 5, zeroBlocks: 0, wireBytes: DISK_MB * MiB });
    expect(await sha256(target)).toBe(await sha256(flatFile));

    await rewriteBlocks(flatFile, [9, 12]);
    const next = await run(await cycle(target, { kind: 'incremental' }));
    expect(next.state).toBe('finished');
    // without changed-block tracking the whole disk crosses the wire, but only changes are written
    expect(next.disks[0]).toMatchObject({ sentBlocks: 2, unchangedBlocks: DISK_MB - 2, writtenBytes: 2 * MiB, wireBytes: DISK_MB * MiB });
    expect(await sha256(target)).toBe(await sha256(flatFile));
  });

  it('reads only the given ranges (changed-block tracking), each with its own ticket, and keeps the rest', async () => {
    const target = path.join(dir, 'ranges.target');
    expect((await run(await cycle(target))).state).toBe('finished');
    await rewriteBlocks(flatFile, [3, 4, 11]);
    const whole = await extent();
    const ranged = async (offset: number, length: number) => ({ offset, length, ticket: (await extent()).ticket! });
    const request = await cycle(target, { kind: 'incremental' });
    request.disks[0].datastore = { url: whole.url, sizeBytes: whole.sizeBytes, ranges: [await ranged(3 * MiB, 2 * MiB), await ranged(11 * MiB, MiB)] };
    const next = await run(request);
    expect(next.state).toBe('finished');
    expect(next.disks[0]).toMatchObject({ sentBlocks: 3, unchangedBlocks: DISK_MB - 3, wireBytes: 3 * MiB, writtenBytes: 3 * MiB });
    expect(await sha256(target)).toBe(await sha256(flatFile));

    // a change outside the ranges is not read: the ranges are what the platform says changed
    await rewriteBlocks(flatFile, [7, 13]);
    const partial = await cycle(target, { kind: 'incremental' });
    partial.disks[0].datastore = { url: whole.url, sizeBytes: whole.sizeBytes, ranges: [await ranged(13 * MiB, MiB)] };
    expect((await run(partial)).disks[0]).toMatchObject({ sentBlocks: 1, wireBytes: MiB });
    expect(await sha256(target)).not.toBe(await sha256(flatFile));

    // a later range whose ticket is refused fails the copy as refused, after the first was written
    const refused = await cycle(target, { kind: 'incremental' });
    refused.disks[0].datastore = { url: whole.url, sizeBytes: whole.sizeBytes, ranges: [await ranged(7 * MiB, MiB), { offset: 9 * MiB, length: MiB, ticket: 'not-a-ticket' }] };
    const failed = await run(refused);
    expect(failed.error).toMatchObject({ cause: 'datastore-refused' });
    expect(failed.disks[0].writtenBytes).toBe(MiB);
  });

  it('fails with datastore-refused when the ticket was used already, and writes nothing', async () => {
    const request = await cycle(path.join(dir, 'never.target'));
    const used = request.disks[0].datastore!;
    await session.getFile(new URL(used.url), `vmware_cgi_ticket=${used.ticket}`, 'spend the ticket', 64 * MiB);
    const failed = await run(request);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ cause: 'datastore-refused', retryable: true });
    expect(failed.error!.message).toMatch(/answered 401: the ticket was refused/);
    expect(failed.disks[0].writtenBytes).toBe(0);
  });

  it('after a crash of the transport, the resumed copy fails as refused: its ticket was spent, the controller must start a new one', async () => {
    await rewriteBlocks(flatFile, Array.from({ length: DISK_MB }, (_, i) => i));
    const request = await cycle(path.join(dir, 'crash.target'), { qosMBps: 4 });
    await client.startCycle(request);
    for (let written = 0; written < 2 * MiB; await sleep(100)) {
      written = (await client.status()).cycles.find((c) => c.cycleId === request.cycleId)!.disks[0].writtenBytes;
    }
    await transport.stop(true);
    transport = await spawnFerry('transport', transport.args, transport.port);
    const resumed = await waitForCycle(client, request.cycleId);
    expect(resumed.state).toBe('failed');
    expect(resumed.error).toMatchObject({ cause: 'datastore-refused', retryable: true });
    // a new copy with a fresh ticket keeps what was written and completes
    const again = await run(await cycle(path.join(dir, 'crash.target'), { kind: 'incremental' }));
    expect(again.state).toBe('finished');
    expect(again.disks[0].sentBlocks).toBeLessThan(DISK_MB);
    expect(await sha256(path.join(dir, 'crash.target'))).toBe(await sha256(flatFile));
  });

  it('refuses a server whose certificate is not the pinned one, without sending the ticket', async () => {
    const wrong = vc.sha256.replace(/^[0-9A-F]{2}/, (b) => (b === '00' ? '11' : '00'));
    const request = await cycle(path.join(dir, 'pinned.target'), { datastore: { certificateSha256: wrong } });
    const failed = await run(request);
    expect(failed.error).toMatchObject({ cause: 'datastore-refused', retryable: false });
    expect(failed.error!.message).toMatch(/certificate changed/);
    // the ticket never reached the server, so it still works
    const ticket = `vmware_cgi_ticket=${request.disks[0].datastore!.ticket}`;
    await expect(session.getFile(new URL(request.disks[0].datastore!.url), ticket, 'read with the unspent ticket', 64 * MiB)).resolves.toEqual(expect.any(String));
    await expect(session.getFile(new URL(request.disks[0].datastore!.url), ticket, 'read with it again', 64 * MiB)).rejects.toThrow(/HTTP 401/);
  });

  it('checks the request: an agent or a datastore, each disk with its extent', async () => {
    const request = await cycle(path.join(dir, 'bad.target'));
    const refusals: [CycleRequest, RegExp][] = [
      [{ ...request, agentAddr: '127.0.0.1:1' }, /give either agentAddr .* or datastore/],
      [{ ...request, disks: [{ disk: 'x', targetPath: path.join(dir, 'x') }] }, /disks\.0\.datastore: is required/],
      [{ ...request, disks: [{ ...request.disks[0], datastore: { ...request.disks[0].datastore!, url: 'file:///etc/passwd' } }] }, /disks\.0\.datastore\.url/],
      [{ ...request, disks: [{ ...request.disks[0], datastore: { ...request.disks[0].datastore!, ranges: [] } }] }, /give either ticket .* or ranges/],
      [{ ...request, disks: [{ ...request.disks[0], datastore: { url: request.disks[0].datastore!.url, sizeBytes: DISK_MB * MiB, ranges: [{ offset: 4096, length: MiB, ticket: 't' }] } }] }, /ranges\.0: must start and end on a block boundary/],
      [{ ...request, disks: [{ ...request.disks[0], datastore: { url: request.disks[0].datastore!.url, sizeBytes: DISK_MB * MiB, ranges: [{ offset: 2 * MiB, length: MiB, ticket: 't' }, { offset: MiB, length: MiB, ticket: 't' }] } }] }, /ranges must be in order/],
    ];
    for (const [bad, message] of refusals) {
      const err = await client.startCycle({ ...bad, cycleId: `bad-${++seq}` }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PeerError);
      expect((err as PeerError).status).toBe(400);
      expect((err as PeerError).detail.message).toMatch(message);
    }
  });
});
