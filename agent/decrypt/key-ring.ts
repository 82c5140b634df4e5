// Data keys for reading: one KMS Decrypt per distinct `__seal_dk__` blob per process, kept only in memory, zeroed on close.
import type { KmsClient } from '../keys/index.js';
import { encryptionContext } from '../keys/index.js';
import type { KeyLookup } from './open-groups.js';

/**
 * Each key lives in a SharedArrayBuffer of its own: worker threads that are handed it see the same memory
 * (no copy per thread), and zeroing it on close wipes it for every thread at once.
 */
export class DataKeyRing {
  private readonly keys = new Map<string, Uint8Array>();
  private readonly pending = new Map<string, Promise<Uint8Array>>();
  private kmsCalls = 0;
  private closed = false;

  constructor(
    private readonly kms: Pick<KmsClient, 'decrypt'>,
    private readonly project: string,
    private readonly logstore: string,
  ) {}

  /** KMS Decrypt calls made so far. */
  get decrypts(): number {
    return this.kmsCalls;
  }

  readonly get: KeyLookup = (blob) => this.keys.get(blob);

  /** The data key of `blob`, from KMS the first time it is asked for. */
  load(blob: string): Promise<Uint8Array> {
    const known = this.keys.get(blob);
    if (known) return Promise.resolve(known);
    let p = this.pending.get(blob);
    if (!p) {
      p = this.fetch(blob);
      this.pending.set(blob, p);
      const forget = () => this.pending.delete(blob);
      p.then(forget, forget);
    }
    return p;
  }

  /** Loads every blob (in parallel); resolves to the entries for handing to workers. */
  async loadAll(blobs: readonly string[]): Promise<Array<{ blob: string; key: Uint8Array }>> {
    return Promise.all(blobs.map(async (blob) => ({ blob, key: await this.load(blob) })));
  }

  close(): void {
    this.closed = true;
    for (const k of this.keys.values()) k.fill(0);
    this.keys.clear();
  }

  private async fetch(blob: string): Promise<Uint8Array> {
    this.kmsCalls++;
    const plain = await this.kms.decrypt(blob, encryptionContext(this.project, this.logstore));
    try {
      if (this.closed) throw new Error('data key ring is closed');
      const key = new Uint8Array(new SharedArrayBuffer(plain.length));
      key.set(plain);
      this.keys.set(blob, key);
      return key;
    } finally {
      plain.fill(0);
    }
  }
}
