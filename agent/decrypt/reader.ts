// `logseal decrypt`: pulls a Logstore, opens every sealed record with keys from KMS Decrypt, yields plaintext logs.
import type { KmsClient } from '../keys/index.js';
import { encryptionContext } from '../keys/index.js';
import { AuthenticationError, openGroup, SealFormatError } from '../seal/index.js';
import type { SlsClient } from '../ship/index.js';
import type { LogGroup } from '../wire/loggroup.js';
import type { PlainLogLine } from './plain-log.js';

export type { PlainLogLine } from './plain-log.js';
import { UnsealError } from './unseal-error.js';

export { UnsealError } from './unseal-error.js';

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
        for (const plain of await this.open(group, range.logstore, shard, cursor)) yield* toLines(plain);
      }
      if (page.count === 0 || page.nextCursor === cursor) return;
      cursor = page.nextCursor;
    }
  }

  private async open(group: LogGroup, logstore: string, shard: number, cursor: string): Promise<LogGroup[]> {
    const version = group.logTags.find((t) => t.key === VERSION_TAG)?.value;
    if (version !== '1') {
      throw new UnsealError(shard, cursor, version === undefined ? 'LogGroup is not sealed by logseal (no __seal_v__ tag)' : `unknown __seal_v__ ${version}`);
    }
    const blob = group.logTags.find((t) => t.key === DATA_KEY_TAG)?.value;
    if (!blob) throw new UnsealError(shard, cursor, 'sealed LogGroup has no __seal_dk__ tag');
    if (!this.keys.has(blob)) {
      this.keys.set(blob, await this.kms.decrypt(blob, encryptionContext(this.project, logstore)));
    }
    try {
      return openGroup(group, (b) => this.keys.get(b)!, { project: this.project, logstore });
    } catch (err) {
      if (err instanceof AuthenticationError) throw new UnsealError(shard, cursor, `record does not authenticate (${err.message})`);
      if (err instanceof SealFormatError) throw new UnsealError(shard, cursor, err.message);
      throw err;
    }
  }
}

const utf8 = new TextDecoder();

function* toLines(group: LogGroup): Generator<PlainLogLine> {
  const tags: Record<string, string> = {};
  for (const t of group.logTags) tags[t.key] = t.value;
  for (const log of group.logs) {
    const contents: Record<string, string> = {};
    // Values that were not valid UTF-8 are sealed byte for byte; JSON can only show them with U+FFFD in place.
    for (const c of log.contents) contents[c.key] = typeof c.value === 'string' ? c.value : utf8.decode(c.value);
    // Key order as FORMAT.md shows it, time_ns right after time.
    yield {
      time: log.time,
      ...(log.timeNs !== undefined ? { time_ns: log.timeNs } : {}),
      topic: group.topic ?? '',
      source: group.source ?? '',
      tags,
      contents,
    };
  }
}
