import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

interface PairingState {
  /** this program's own id, handed to its controller */
  selfId: string;
  controllerId?: string;
  secret?: string;
  callbackUrl?: string;
  /** set by the first request that was signed with the secret: from then on no re-pairing */
  confirmed?: boolean;
}

export type PairOutcome = { secret: string; selfId: string } | { refused: string };

/**
 * The pairing of a transport with its controller (or of an agent with its transport), kept in
 * a 0600 file. The first controller to ask gets a fresh secret; any other is refused until the
 * file is reset locally. The same controller may ask again until its first signed request
 * arrives, so a pairing answer lost on the network does not lock it out.
 */
export class Pairing {
  private constructor(private readonly file: string, private state: PairingState) {}

  static async load(file: string): Promise<Pairing> {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      return new Pairing(file, JSON.parse(await readFile(file, 'utf8')) as PairingState);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the pairing file ${file}: ${(err as Error).message}`);
      const pairing = new Pairing(file, { selfId: randomUUID() });
      await pairing.save();
      return pairing;
    }
  }

  /** Forgets the controller (the local `--reset-pairing`), keeping its own id; the next one to ask gets a new secret. */
  static async reset(file: string): Promise<void> {
    const pairing = await Pairing.load(file);
    pairing.state = { selfId: pairing.state.selfId };
    await pairing.save();
  }

  get selfId(): string {
    return this.state.selfId;
  }

  get secret(): string | undefined {
    return this.state.secret;
  }

  get controllerId(): string | undefined {
    return this.state.controllerId;
  }

  get callbackUrl(): string | undefined {
    return this.state.callbackUrl;
  }

  get paired(): boolean {
    return this.state.secret !== undefined;
  }

  async pair(controllerId: string, callbackUrl?: string): Promise<PairOutcome> {
    const { controllerId: current, confirmed } = this.state;
    if (current !== undefined && (current !== controllerId || confirmed)) {
      return { refused: current === controllerId ? 'already paired with this controller; reset the pairing locally to pair again' : 'paired with another controller; reset the pairing locally to change it' };
    }
    this.state = { ...this.state, controllerId, callbackUrl, secret: randomBytes(32).toString('base64url'), confirmed: false };
    await this.save();
    return { secret: this.state.secret!, selfId: this.state.selfId };
  }

  async confirm(): Promise<void> {
    if (this.state.confirmed) return;
    this.state.confirmed = true;
    await this.save();
  }

  async setCallbackUrl(url: string): Promise<void> {
    this.state.callbackUrl = url;
    await this.save();
  }

  private async save(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(this.state), { mode: 0o600 });
    await rename(tmp, this.file);
  }
}
