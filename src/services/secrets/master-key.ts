import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ServerKey } from '../../../entities/index.js';

const CHECK_NAME = 'master-key-check';

/** Seals stored credentials (cloud passwords, pairing secrets) with AES-256-GCM. */
export class Sealer {
  constructor(private readonly key: Buffer) {}

  seal(plain: string, context = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  open(sealed: string, context = ''): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('sealed value has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}

function parseKey(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${source} must hold 32 bytes in base64`);
  return key;
}

/** The key comes from FERRY_MASTER_KEY, or from `${dataDir}/master.key`, made at first start. */
async function loadOrCreateKey(dataDir: string, fromEnv?: string): Promise<Buffer> {
  if (fromEnv) return parseKey(fromEnv, 'FERRY_MASTER_KEY');
  const file = path.join(dataDir, 'master.key');
  try {
    return parseKey(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  // 'wx' so that two processes starting together never overwrite each other's key
  await writeFile(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' }).catch(async (err) => {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  });
  return parseKey(await readFile(file, 'utf8'), file);
}

/**
 * Loads the master key and checks it against the value recorded in the database, so that
 * a database is never paired with a key that cannot open what it holds.
 */
export async function openSealer(em: EntityManager, dataDir: string, fromEnv?: string): Promise<Sealer> {
  const key = await loadOrCreateKey(dataDir, fromEnv);
  const check = createHmac('sha256', key).update('ferry master key check').digest('hex');
  await em.getConnection().execute(
    `insert into server_keys (name, value) values (?, ?) on conflict (name) do nothing`,
    [CHECK_NAME, JSON.stringify({ check })],
  );
  const stored = await em.findOneOrFail(ServerKey, { name: CHECK_NAME });
  const expected = Buffer.from(String(stored.value.check), 'hex');
  if (expected.length !== 32 || !timingSafeEqual(expected, Buffer.from(check, 'hex'))) {
    throw new Error(
      'The master key does not match the one this database was set up with, so stored credentials could not be read. ' +
        `Restore ${fromEnv ? 'FERRY_MASTER_KEY' : path.join(dataDir, 'master.key')} or point DATABASE_URL at the matching database.`,
    );
  }
  return new Sealer(key);
}
