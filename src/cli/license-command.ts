import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateLicenseKeyPair, issueActivationKey } from '../services/license/activation-key.js';

/** Parses `2027-12-31` as the end of that day in UTC, or any full ISO 8601 time as given. */
function parseExpiry(text: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T23:59:59Z`) : new Date(text);
  if (Number.isNaN(date.getTime())) throw new Error(`--expires must be a date such as 2027-12-31, got "${text}"`);
  return date;
}

const exists = (file: string) => access(file).then(() => true, () => false);

/** `ferry license keygen|issue`: the vendor's side of activation keys. */
export async function runLicenseCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'keygen') {
    const { values } = parseArgs({ args: rest, options: { 'out-dir': { type: 'string' } } });
    const { privatePem, publicPem } = await generateLicenseKeyPair();
    if (!values['out-dir']) {
      process.stdout.write(privatePem + publicPem);
      return 0;
    }
    const dir = values['out-dir'];
    await mkdir(dir, { recursive: true });
    for (const name of ['license-private.pem', 'license-public.pem']) {
      if (await exists(path.join(dir, name))) throw new Error(`${path.join(dir, name)} already exists; refusing to overwrite a key`);
    }
    await writeFile(path.join(dir, 'license-private.pem'), privatePem, { mode: 0o600, flag: 'wx' });
    await writeFile(path.join(dir, 'license-public.pem'), publicPem, { flag: 'wx' });
    process.stdout.write(`wrote ${path.join(dir, 'license-private.pem')} (keep it secret) and ${path.join(dir, 'license-public.pem')} (FERRY_LICENSE_PUBLIC_KEY)\n`);
    return 0;
  }
  if (sub === 'issue') {
    const { values } = parseArgs({
      args: rest,
      options: { 'private-key': { type: 'string' }, credits: { type: 'string' }, expires: { type: 'string' }, id: { type: 'string' } },
    });
    if (!values['private-key']) throw new Error('--private-key FILE is required');
    const credits = Number(values.credits);
    if (!Number.isInteger(credits) || credits < 1) throw new Error(`--credits must be a positive integer, got "${values.credits ?? ''}"`);
    if (!values.expires) throw new Error('--expires YYYY-MM-DD is required');
    const expiresAt = parseExpiry(values.expires);
    if (expiresAt <= new Date()) throw new Error(`--expires ${values.expires} is already past`);
    const key = await issueActivationKey(await readFile(values['private-key'], 'utf8'), credits, expiresAt, values.id);
    process.stdout.write(key + '\n');
    return 0;
  }
  throw new Error('expected "license keygen" or "license issue"; see ferry --help');
}
