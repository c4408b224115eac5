import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLicensePublicKey, verifyActivationKey } from '../src/services/license/activation-key.js';

const run = promisify(execFile);
const ferryBin = path.resolve('bin/ferry.js');

/** Runs the real `ferry` command; resolves with its exit code and output, whatever the code. */
async function ferry(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [ferryBin, ...args], { cwd: os.tmpdir() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('ferry license (the vendor side)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-license-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keygen writes a key pair, the private half readable by its owner only, and never overwrites one', async () => {
    const made = await ferry('license', 'keygen', '--out-dir', dir);
    expect(made.code).toBe(0);
    expect((await stat(path.join(dir, 'license-private.pem'))).mode & 0o077).toBe(0);
    expect(await readFile(path.join(dir, 'license-public.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = await ferry('license', 'keygen', '--out-dir', dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists; refusing to overwrite a key');
  });

  it('issue prints a key that Ferry accepts with the matching public key', async () => {
    const id = randomUUID();
    const issued = await ferry('license', 'issue', '--private-key', path.join(dir, 'license-private.pem'), '--credits', '25', '--expires', '2099-12-31', '--id', id);
    expect(issued.code).toBe(0);
    const key = issued.stdout.trim();
    const claims = await verifyActivationKey(key, await loadLicensePublicKey(path.join(dir, 'license-public.pem')));
    expect(claims).toMatchObject({ id, credits: 25 });
    expect(typeof claims !== 'string' && claims.expiresAt.toISOString()).toBe('2099-12-31T23:59:59.000Z');
  });

  it('issue refuses bad arguments with a message naming them', async () => {
    const key = path.join(dir, 'license-private.pem');
    const cases: [string[], string][] = [
      [['--credits', '5', '--expires', '2099-01-01'], '--private-key FILE is required'],
      [['--private-key', key, '--credits', '0', '--expires', '2099-01-01'], '--credits must be a positive integer'],
      [['--private-key', key, '--credits', 'ten', '--expires', '2099-01-01'], '--credits must be a positive integer'],
      [['--private-key', key, '--credits', '5', '--expires', 'soon'], '--expires must be a date'],
      [['--private-key', key, '--credits', '5', '--expires', '2001-01-01'], 'is already past'],
      [['--private-key', key, '--credits', '5'], '--expires YYYY-MM-DD is required'],
    ];
    for (const [args, message] of cases) {
      const r = await ferry('license', 'issue', ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
