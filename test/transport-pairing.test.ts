import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pairing } from '../src/transport/pairing.js';

describe('pairing a transport with its controller', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-pairing-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('gives the first controller a secret, lets it ask again until its first signed request, then refuses everyone', async () => {
    const file = path.join(dir, 'pairing.json');
    const pairing = await Pairing.load(file);
    expect(pairing.paired).toBe(false);
    const first = await pairing.pair('ferry-1', 'http://127.0.0.1:1/cb');
    expect('secret' in first && first.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(file)).mode & 0o077).toBe(0);

    // the answer got lost: the same controller may pair again, and gets a new secret
    const again = await pairing.pair('ferry-1', 'http://127.0.0.1:1/cb');
    expect('secret' in again && 'secret' in first && again.secret !== first.secret).toBe(true);
    expect(await pairing.pair('ferry-2', 'http://127.0.0.1:2/cb')).toEqual({ refused: expect.stringContaining('another controller') });

    await pairing.confirm();
    expect(await pairing.pair('ferry-1', 'http://127.0.0.1:1/cb')).toEqual({ refused: expect.stringContaining('already paired') });

    // the pairing survives a restart, with the same transport id
    const reloaded = await Pairing.load(file);
    expect(reloaded.selfId).toBe(pairing.selfId);
    expect(reloaded.secret).toBe('secret' in again ? again.secret : undefined);
    expect(await reloaded.pair('ferry-2', 'http://127.0.0.1:2/cb')).toEqual({ refused: expect.any(String) });

    // only a local reset frees it
    await Pairing.reset(file);
    const fresh = await Pairing.load(file);
    expect(fresh.paired).toBe(false);
    expect(fresh.selfId).toBe(pairing.selfId);
    expect('secret' in (await fresh.pair('ferry-2', 'http://127.0.0.1:2/cb'))).toBe(true);
  });
});
