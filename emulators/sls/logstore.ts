// One logstore on disk: its metadata file, its shards' record logs, and the at-rest sealing of every stored LogGroup.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AtRestKms } from './index.js';
import { cipherFor, openPayload, RecordCipher, sealPayload } from './at-rest.js';
import { provisionKey, usableKey, type StoredKey } from './at-rest-keys.js';
import { writeFileDurably } from './durable-file.js';
import { ConsumerGroups } from './consumer-groups.js';
import { SlsApiError } from './errors.js';
import type { IndexConfig } from './index-config.js';
import { shardForHashKey, shardRanges, type LogstoreSettings, type ShardRange } from './logstore-config.js';
import { releaseRecords, ShardLog, ShardLogClosedError, syncDirectory } from './shard-log.js';

export interface LogstoreMeta {
  version: 1;
  project: string;
  settings: LogstoreSettings;
  createTime: number;
  lastModifyTime: number;
  shards: (ShardRange & { createTime: number })[];
  atRestKey?: StoredKey;
  /** What GetLogs can search (CreateIndex / UpdateIndex). */
  index?: IndexConfig;
}

const META_FILE = 'meta.json';

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

export class Logstore {
  private roundRobin = 0;
  private dataKey: Buffer | undefined;

  private constructor(
    private meta: LogstoreMeta,
    readonly dir: string,
    private readonly shards: ShardLog[],
    private readonly kms: AtRestKms | undefined,
    /** Its consumer groups, kept in the logstore's directory so they go when it goes. */
    readonly consumerGroups: ConsumerGroups,
  ) {}

  get name(): string {
    return this.meta.settings.logstoreName;
  }

  /** Creates the directory, provisions the at-rest key when encryption is configured, and persists the metadata. */
  static async create(dir: string, project: string, settings: LogstoreSettings, kms: AtRestKms | undefined): Promise<Logstore> {
    const now = unixNow();
    const meta: LogstoreMeta = {
      version: 1,
      project,
      settings,
      createTime: now,
      lastModifyTime: now,
      shards: shardRanges(settings.shardCount).map((r) => ({ ...r, createTime: now })),
    };
    let plaintext: Buffer | undefined;
    if (settings.encrypt_conf) {
      const k = await provisionKey(project, settings.logstoreName, settings.encrypt_conf, kms);
      meta.atRestKey = k.stored;
      plaintext = k.plaintext;
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileDurably(dir, META_FILE, JSON.stringify(meta));
    const store = new Logstore(meta, dir, await Logstore.openShards(dir, meta), kms, await Logstore.loadGroups(dir, meta));
    await syncDirectory(dir);
    store.dataKey = plaintext;
    return store;
  }

  /** Reopens a logstore persisted by `create`; returns undefined for a directory whose creation never completed. */
  static async load(dir: string, kms: AtRestKms | undefined): Promise<Logstore | undefined> {
    let raw: string;
    try {
      raw = await readFile(join(dir, META_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const meta = JSON.parse(raw) as LogstoreMeta;
    return new Logstore(meta, dir, await Logstore.openShards(dir, meta), kms, await Logstore.loadGroups(dir, meta));
  }

  private static loadGroups(dir: string, meta: LogstoreMeta): Promise<ConsumerGroups> {
    return ConsumerGroups.load(dir, meta.shards.map((s) => s.shardID));
  }

  private static async openShards(dir: string, meta: LogstoreMeta): Promise<ShardLog[]> {
    const shards: ShardLog[] = [];
    for (const s of meta.shards) shards.push(await ShardLog.open(join(dir, `shard-${s.shardID}`)));
    return shards;
  }

  get settings(): LogstoreSettings {
    return this.meta.settings;
  }

  /** GetLogStore's answer. */
  describe(): Record<string, unknown> {
    const s = this.meta.settings;
    return {
      logstoreName: s.logstoreName,
      ttl: s.ttl,
      shardCount: s.shardCount,
      ...(s.encrypt_conf ? { encrypt_conf: s.encrypt_conf } : {}),
      createTime: this.meta.createTime,
      lastModifyTime: this.meta.lastModifyTime,
    };
  }

  /** ListShards' answer. */
  describeShards(): Record<string, unknown>[] {
    return this.meta.shards.map((s) => ({
      shardID: s.shardID,
      status: 'readwrite',
      inclusiveBeginKey: s.inclusiveBeginKey,
      exclusiveEndKey: s.exclusiveEndKey,
      createTime: s.createTime,
    }));
  }

  /** Applies already validated settings; a first encrypt_conf gets its key now. */
  async update(project: string, next: LogstoreSettings): Promise<void> {
    const meta: LogstoreMeta = { ...this.meta, settings: next, lastModifyTime: unixNow() };
    let plaintext: Buffer | undefined;
    if (next.encrypt_conf && !meta.atRestKey) {
      const k = await provisionKey(project, next.logstoreName, next.encrypt_conf, this.kms);
      meta.atRestKey = k.stored;
      plaintext = k.plaintext;
    }
    await writeFileDurably(this.dir, META_FILE, JSON.stringify(meta));
    this.meta = meta;
    if (plaintext) this.dataKey = plaintext;
  }

  /** The index configuration, or undefined when none was created. */
  get index(): IndexConfig | undefined {
    return this.meta.index;
  }

  get shardCount(): number {
    return this.shards.length;
  }

  /** CreateIndex (`create`: refused when one exists) or UpdateIndex (refused when none exists); persisted like the settings. */
  async setIndex(index: IndexConfig, create: boolean): Promise<void> {
    if (create && this.meta.index) throw new SlsApiError('IndexAlreadyExist', `index of logstore ${this.name} already exists.`);
    if (!create && !this.meta.index) throw new SlsApiError('IndexConfigNotExist', `logstore ${this.name} has no index config.`);
    const meta: LogstoreMeta = { ...this.meta, index, lastModifyTime: unixNow() };
    await writeFileDurably(this.dir, META_FILE, JSON.stringify(meta));
    this.meta = meta;
  }

  async deleteIndex(): Promise<void> {
    if (!this.meta.index) throw new SlsApiError('IndexConfigNotExist', `logstore ${this.name} has no index config.`);
    const { index: _dropped, ...rest } = this.meta;
    const meta: LogstoreMeta = { ...rest, lastModifyTime: unixNow() };
    await writeFileDurably(this.dir, META_FILE, JSON.stringify(meta));
    this.meta = meta;
  }

  /** The shard PutLogs writes to: the one holding `hashKey`, or the next one in round-robin order. */
  pickShard(hashKey: string | undefined): number {
    if (hashKey !== undefined) return shardForHashKey(this.meta.shards, hashKey);
    const id = this.roundRobin % this.shards.length;
    this.roundRobin = (this.roundRobin + 1) % this.shards.length;
    return id;
  }

  shard(shardId: number): ShardLog {
    const s = Number.isInteger(shardId) ? this.shards[shardId] : undefined;
    if (!s) throw new SlsApiError('ShardNotExist', `shard ${shardId} does not exist in logstore ${this.name}.`);
    return s;
  }

  /** Resolves to the key when reads and writes may proceed; refuses every access while a BYOK CMK is unusable. */
  private async key(): Promise<Buffer | undefined> {
    const stored = this.meta.atRestKey;
    if (!stored) return undefined;
    this.dataKey = await usableKey(stored, this.dataKey, this.meta.project, this.name, this.kms);
    return this.dataKey;
  }

  /** Checks the logstore may be written or read right now (BYOK CMK state); throws the client-facing error if not. */
  async checkAccess(): Promise<void> {
    await this.key();
  }

  private aad(shardId: number, cipher: RecordCipher): Buffer {
    return Buffer.from(`sls-emulator/1|${this.meta.project}|${this.name}|${shardId}|${cipher}`);
  }

  /** Stores one LogGroup (protobuf bytes) durably, sealed when encryption is enabled. */
  async write(shardId: number, group: Uint8Array): Promise<void> {
    const shard = this.shard(shardId);
    const key = await this.key();
    const conf = this.meta.settings.encrypt_conf;
    const cipher = conf?.enable && key ? cipherFor(conf.encrypt_type) : RecordCipher.None;
    const payload = cipher === RecordCipher.None ? group : sealPayload(cipher, key!, group, this.aad(shardId, cipher));
    const record = Buffer.allocUnsafe(1 + payload.length);
    record[0] = cipher;
    record.set(payload, 1);
    try {
      await shard.append(record);
    } catch (e) {
      if (e instanceof ShardLogClosedError) throw new SlsApiError('LogStoreNotExist', `logstore ${this.name} does not exist`);
      throw e;
    }
  }

  /**
   * Reads stored LogGroups [from, to) in order, stopping early once `maxBytes` of plaintext is collected. `release`
   * gives the records' memory back for later reads: for a caller that is done with the groups.
   */
  async read(shardId: number, from: number, to: number, maxBytes: number): Promise<{ groups: Buffer[]; next: number; release: () => void }> {
    const shard = this.shard(shardId);
    const key = await this.key();
    const groups: Buffer[] = [];
    const records: Buffer[] = [];
    let bytes = 0;
    let i = from;
    for (; i < to && (groups.length === 0 || bytes < maxBytes); i++) {
      const record = await shard.read(i);
      records.push(record);
      const cipher = record[0] as RecordCipher;
      const payload = record.subarray(1);
      let group: Buffer;
      if (cipher === RecordCipher.None) {
        group = payload;
      } else {
        if (!key) throw new SlsApiError('InternalServerError', `record ${i} of shard ${shardId} is encrypted but logstore ${this.name} has no key.`);
        group = openPayload(cipher, key, payload, this.aad(shardId, cipher));
      }
      groups.push(group);
      bytes += group.length;
    }
    return { groups, next: i, release: () => releaseRecords(records.splice(0)) };
  }

  async close(): Promise<void> {
    await this.consumerGroups.close();
    for (const s of this.shards) await s.close();
  }
}
