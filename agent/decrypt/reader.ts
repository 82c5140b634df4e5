// A plain reader of a Logstore, one shard and one group at a time on the calling thread: the reference that tests hold
// `logseal decrypt`'s engine (worker threads, filters, output formats) against.
import type { KmsClient } from '../keys/index.js';
import { encryptionContext } from '../keys/index.js';
import { AuthenticationError, openGroup, SealFormatError } from '../seal/index.js';
import type { SlsClient } from '../ship/index.js';
import type { LogGroup } from '../wire/loggroup.js';
import type { PlainLogLine } from './plain-log.js';
import { plainLines } from './render.js';

export type { PlainLogLine } from './plain-log.js';
import { UnsealError } from './errors.js';

export { UnsealError } from './errors.js';

export interface DecryptRange {
  logstore: string;
  shards?: number[];
  from: 'begin' | number;
  to: 'end' | number;
  /** LogGroups per PullLogs call. */
  pullCount?: number;
}

const DATA_KEY_TAG = '__seal_dk__';
const VERSION_TAG = '__seal_v__';

export class SealedLogReader {
  private readonly keys = new Map<string, Uint8Array>();

  constructor(
    private readonly sls: SlsClient,
    private readonly kms: Pick<KmsClient, 'decrypt'>,
    private readonly project: string,
  ) {}

  /** Number of KMS Decrypt calls made (one per distinct data key). */
  get keysOpened(): number {
    return this.keys.size;
  }

  async *read(range: DecryptRange): AsyncGenerator<PlainLogLine> {
    const shards = range.shards ?? (await this.sls.listShards(range.logstore)).map((s) => s.shardID);
    for (const shard of shards) yield* this.readShard(range, shard);
  }

  close(): void {
    for (const k of this.keys.values()) k.fill(0);
    this.keys.clear();
  }

  private async *readShard(range: DecryptRange, shard: number): AsyncGenerator<PlainLogLine> {
    let cursor = await this.sls.getCursor(range.logstore, shard, range.from);
    const endCursor = await this.sls.getCursor(range.logstore, shard, range.to);
    for (;;) {
      const page = await this.sls.pullLogs(range.logstore, shard, cursor, range.pullCount ?? 100, endCursor);
      for (const group of page.groups) {
        for (const plain of await this.open(group, range.logstore, `shard ${shard} cursor ${cursor}`)) yield* plainLines(plain);
      }
      if (page.count === 0 || page.nextCursor === cursor) return;
      cursor = page.nextCursor;
    }
  }

  private async open(group: LogGroup, logstore: string, where: string): Promise<LogGroup[]> {
    const version = group.logTags.find((t) => t.key === VERSION_TAG)?.value;
    if (version !== '1') {
      throw new UnsealError(where, version === undefined ? 'LogGroup is not sealed by logseal (no __seal_v__ tag)' : `unknown __seal_v__ ${version}`);
    }
    const blob = group.logTags.find((t) => t.key === DATA_KEY_TAG)?.value;
    if (!blob) throw new UnsealError(where, 'sealed LogGroup has no __seal_dk__ tag');
    if (!this.keys.has(blob)) {
      this.keys.set(blob, await this.kms.decrypt(blob, encryptionContext(this.project, logstore)));
    }
    try {
      return openGroup(group, (b) => this.keys.get(b)!, { project: this.project, logstore });
    } catch (err) {
      if (err instanceof AuthenticationError) throw new UnsealError(where, `record does not authenticate (${err.message})`);
      if (err instanceof SealFormatError) throw new UnsealError(where, err.message);
      throw err;
    }
  }
}
