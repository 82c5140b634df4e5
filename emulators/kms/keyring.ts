// The emulator's master keys: their state, their persistence under <dataDir>/kms, and wrapping data keys with them.
// The HTTP server uses it, and the SLS emulator may use it in-process for BYOK encryption at rest.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MATERIAL_BYTES, openBlob, readBlobHeader, sealBlob, type PayloadKind, type WrapAlgorithm } from './blob.js';
import { kmsErrors } from './errors.js';

export type KeySpec = 'Aliyun_AES_256' | 'Aliyun_SM4';
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface KeyMetadata {
  keyId: string;
  arn: string;
  keySpec: KeySpec;
  keyState: KeyState;
  keyUsage: 'ENCRYPT/DECRYPT';
  origin: 'Aliyun_KMS';
  protectionLevel: 'SOFTWARE';
  description: string;
  creator: string;
  /** ISO 8601, second precision, UTC. */
  creationDate: string;
  /** When a key pending deletion disappears. */
  deleteDate?: string;
  primaryKeyVersion: string;
}

export interface KeyringOptions {
  /** The emulator's data dir; keys live in `<dataDir>/kms/keys.json`. */
  dataDir: string;
  regionId: string;
  accountId: string;
  now?: () => number;
}

interface StoredVersion {
  keyVersionId: string;
  /** base64 master key material; the file is 0600 and never leaves the data dir. */
  material: string;
  creationDate: string;
}

interface StoredKey {
  keyId: string;
  keySpec: KeySpec;
  state: KeyState;
  description: string;
  creationDate: string;
  deleteAt?: number;
  primaryKeyVersion: string;
  versions: StoredVersion[];
}

interface StoredKeyring {
  format: 1;
  keys: StoredKey[];
  aliases: Record<string, string>;
}

const WRAP: Record<KeySpec, WrapAlgorithm> = { Aliyun_AES_256: 'AES_256_GCM', Aliyun_SM4: 'SM4_CTR_HMAC_SHA256' };
const DAY_MS = 86_400_000;

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function isKeySpec(v: string): v is KeySpec {
  return v === 'Aliyun_AES_256' || v === 'Aliyun_SM4';
}

export class KmsKeyring {
  private readonly keys = new Map<string, StoredKey>();
  private readonly aliases = new Map<string, string>();
  private readonly file: string;
  private readonly now: () => number;
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly o: KeyringOptions) {
    this.file = join(o.dataDir, 'kms', 'keys.json');
    this.now = o.now ?? Date.now;
  }

  /** Loads the keys a previous run left, or starts empty. */
  static async open(o: KeyringOptions): Promise<KmsKeyring> {
    const ring = new KmsKeyring(o);
    await mkdir(join(o.dataDir, 'kms'), { recursive: true, mode: 0o700 });
    let text: string | undefined;
    try {
      text = await readFile(ring.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      const stored = JSON.parse(text) as StoredKeyring;
      if (stored.format !== 1) throw new Error(`unsupported keyring format in ${ring.file}`);
      for (const k of stored.keys) ring.keys.set(k.keyId, k);
      for (const [alias, keyId] of Object.entries(stored.aliases)) ring.aliases.set(alias, keyId);
    }
    return ring;
  }

  async createKey(spec: KeySpec = 'Aliyun_AES_256', description = ''): Promise<KeyMetadata> {
    if (!isKeySpec(spec)) throw kmsErrors.invalidParameter('KeySpec');
    const created = isoSeconds(this.now());
    const version: StoredVersion = {
      keyVersionId: randomUUID(),
      material: randomBytes(MATERIAL_BYTES[WRAP[spec]]).toString('base64'),
      creationDate: created,
    };
    const key: StoredKey = {
      keyId: randomUUID(),
      keySpec: spec,
      state: 'Enabled',
      description,
      creationDate: created,
      primaryKeyVersion: version.keyVersionId,
      versions: [version],
    };
    this.keys.set(key.keyId, key);
    await this.persist();
    return this.metadata(key);
  }

  describeKey(ref: string): KeyMetadata {
    return this.metadata(this.find(ref));
  }

  listKeys(): KeyMetadata[] {
    return [...this.keys.values()].filter((k) => !this.expired(k)).map((k) => this.metadata(k));
  }

  keyState(ref: string): KeyState | 'NotFound' {
    try {
      return this.find(ref).state;
    } catch {
      return 'NotFound';
    }
  }

  async setEnabled(ref: string, enabled: boolean): Promise<KeyMetadata> {
    const key = this.find(ref);
    if (key.state === 'PendingDeletion') throw kmsErrors.pendingDeletion(key.keyId);
    key.state = enabled ? 'Enabled' : 'Disabled';
    await this.persist();
    return this.metadata(key);
  }

  /** Real KMS accepts a window of 7 to 366 days; the key is gone once it ends. */
  async scheduleDeletion(ref: string, pendingWindowInDays: number): Promise<KeyMetadata> {
    if (!Number.isInteger(pendingWindowInDays) || pendingWindowInDays < 7 || pendingWindowInDays > 366) {
      throw kmsErrors.invalidParameter('PendingWindowInDays');
    }
    const key = this.find(ref);
    if (key.state === 'PendingDeletion') throw kmsErrors.pendingDeletion(key.keyId);
    key.state = 'PendingDeletion';
    key.deleteAt = this.now() + pendingWindowInDays * DAY_MS;
    await this.persist();
    return this.metadata(key);
  }

  /** A cancelled deletion leaves the key Enabled, as in real KMS. */
  async cancelDeletion(ref: string): Promise<KeyMetadata> {
    const key = this.find(ref);
    if (key.state !== 'PendingDeletion') throw kmsErrors.unexpectedState(key.keyId, key.state);
    key.state = 'Enabled';
    delete key.deleteAt;
    await this.persist();
    return this.metadata(key);
  }

  async createAlias(aliasName: string, ref: string): Promise<void> {
    if (!/^alias\/[A-Za-z0-9:/_-]{1,250}$/.test(aliasName)) throw kmsErrors.invalidParameter('AliasName');
    const existing = this.aliases.get(aliasName);
    if (existing !== undefined && this.keys.has(existing)) throw kmsErrors.aliasExists(aliasName);
    this.aliases.set(aliasName, this.find(ref).keyId);
    await this.persist();
  }

  async generateDataKey(
    ref: string,
    numberOfBytes: number,
    context: Record<string, string>,
  ): Promise<{ keyId: string; keyVersionId: string; plaintext: Buffer; blob: string }> {
    if (!Number.isInteger(numberOfBytes) || numberOfBytes < 1 || numberOfBytes > 1024) {
      throw kmsErrors.invalidParameter('NumberOfBytes');
    }
    const plaintext = randomBytes(numberOfBytes);
    const { keyId, keyVersionId, blob } = this.wrap(ref, plaintext, context, 'dataKey');
    return { keyId, keyVersionId, plaintext, blob };
  }

  async encrypt(
    ref: string,
    plaintext: Buffer,
    context: Record<string, string>,
  ): Promise<{ keyId: string; keyVersionId: string; blob: string }> {
    if (plaintext.length < 1 || plaintext.length > 6144) throw kmsErrors.invalidParameter('Plaintext');
    return this.wrap(ref, plaintext, context, 'text');
  }

  async decrypt(
    blob: string,
    context: Record<string, string>,
  ): Promise<{ keyId: string; keyVersionId: string; plaintext: Buffer; kind: PayloadKind }> {
    const named = readBlobHeader(blob);
    const key = this.usable(named.keyId);
    const { header, plaintext } = openBlob(
      blob,
      (h) => {
        const version = key.versions.find((v) => v.keyVersionId === h.keyVersionId);
        return version && { algorithm: WRAP[key.keySpec], material: Buffer.from(version.material, 'base64') };
      },
      context,
    );
    return { keyId: header.keyId, keyVersionId: header.keyVersionId, plaintext, kind: header.kind };
  }

  private wrap(
    ref: string,
    plaintext: Buffer,
    context: Record<string, string>,
    kind: PayloadKind,
  ): { keyId: string; keyVersionId: string; blob: string } {
    const key = this.usable(ref);
    const version = key.versions.find((v) => v.keyVersionId === key.primaryKeyVersion)!;
    const header = { algorithm: WRAP[key.keySpec], kind, keyId: key.keyId, keyVersionId: version.keyVersionId };
    const blob = sealBlob(header, Buffer.from(version.material, 'base64'), plaintext, context);
    return { keyId: key.keyId, keyVersionId: version.keyVersionId, blob };
  }

  /** A key that may be used for cryptography now. */
  private usable(ref: string): StoredKey {
    const key = this.find(ref);
    if (key.state === 'Disabled') throw kmsErrors.disabled(key.keyId);
    if (key.state === 'PendingDeletion') throw kmsErrors.pendingDeletion(key.keyId);
    return key;
  }

  /** Resolves a key id, an `alias/…` or an ARN `acs:kms:<region>:<account>:key/<id>` (or `…:alias/<name>`). */
  private find(ref: string): StoredKey {
    let id = ref;
    const arn = /^acs:kms:([^:]*):([^:]*):(key\/.+|alias\/.+)$/.exec(ref);
    if (arn) {
      if (arn[1] !== this.o.regionId || arn[2] !== this.o.accountId) throw kmsErrors.keyNotFound(ref);
      id = arn[3]!.startsWith('key/') ? arn[3]!.slice(4) : arn[3]!;
    }
    if (id.startsWith('alias/')) id = this.aliases.get(id) ?? '';
    const key = this.keys.get(id);
    if (!key || this.expired(key)) throw kmsErrors.keyNotFound(ref);
    return key;
  }

  private expired(key: StoredKey): boolean {
    return key.state === 'PendingDeletion' && key.deleteAt !== undefined && this.now() >= key.deleteAt;
  }

  private metadata(k: StoredKey): KeyMetadata {
    return {
      keyId: k.keyId,
      arn: `acs:kms:${this.o.regionId}:${this.o.accountId}:key/${k.keyId}`,
      keySpec: k.keySpec,
      keyState: k.state,
      keyUsage: 'ENCRYPT/DECRYPT',
      origin: 'Aliyun_KMS',
      protectionLevel: 'SOFTWARE',
      description: k.description,
      creator: this.o.accountId,
      creationDate: k.creationDate,
      ...(k.deleteAt !== undefined ? { deleteDate: isoSeconds(k.deleteAt) } : {}),
      primaryKeyVersion: k.primaryKeyVersion,
    };
  }

  /** Writes are chained so the file always ends with the latest state; each goes to a temp file, then rename. */
  private persist(): Promise<void> {
    const next = this.writing.then(async () => {
      for (const [id, key] of this.keys) if (this.expired(key)) this.keys.delete(id);
      for (const [alias, id] of this.aliases) if (!this.keys.has(id)) this.aliases.delete(alias);
      const stored: StoredKeyring = { format: 1, keys: [...this.keys.values()], aliases: Object.fromEntries(this.aliases) };
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(stored, null, 1), { mode: 0o600 });
      await chmod(tmp, 0o600); // the mode above is filtered by the umask
      await rename(tmp, this.file);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}
