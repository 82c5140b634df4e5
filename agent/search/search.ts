// `logseal search`: asks GetLogs for the shipped Logs whose tokens can match, opens them, and keeps the logs that do.
import { setTimeout as delay } from 'node:timers/promises';
import { compileWhere, DataKeyRing, GroupNotOpened, type PlainLogLine, type WhereExpr } from '../decrypt/index.js';
import { openShipped } from '../decrypt/open-groups.js';
import { plainLines } from '../decrypt/render.js';
import type { KmsClient } from '../keys/index.js';
import { indexToken, tokenContentKey } from '../seal/index.js';
import type { QueriedLog, SlsClient } from '../ship/index.js';
import type { LogGroup } from '../wire/loggroup.js';
import { SearchSetupError, SearchUnsealError } from './errors.js';
import { ALL, narrowingQuery } from './narrowing.js';
import { shippedGroupOf } from './shipped-log.js';
import { INDEX_TAG_KEY } from './sls-index.js';

export { SearchSetupError, SearchUnsealError };

export interface SearchRange {
  /** Unix seconds: plaintext logs with from <= time < to. */
  from: number;
  to: number;
}


/** What the index-key check found: how many shipped Logs carrying tokens it looked at, and whether one proved the key. */
export interface KeyCheck {
  checked: number;
  madeWithKey: boolean;
}

/** GetLogs returns at most 100 logs per call. */
const PAGE_LINES = 100;
const INCOMPLETE_RETRIES = 8;
/** Shipped Logs with tokens the index-key check looks at, at most; the first whose tokens match ends it. */
const KEY_CHECK_LOGS = 20;

export class SealedLogSearch {
  private readonly dataKeys: DataKeyRing;
  private index: { indexed: Set<string>; guardUnindexed: boolean } | undefined;
  /** Shipped Logs fetched and opened so far. */
  fetched = 0;

  constructor(
    private readonly sls: SlsClient,
    kms: Pick<KmsClient, 'decrypt'>,
    private readonly project: string,
    private readonly logstore: string,
    private readonly indexKey: Uint8Array,
    private readonly fields: readonly string[],
    /** Logs per GetLogs call (tests make pages small to page often). */
    private readonly pageLines = PAGE_LINES,
  ) {
    this.dataKeys = new DataKeyRing(kms, project, logstore);
  }

  /** The GetLogs query for `where`, given which token keys the Logstore's index has. */
  async queryFor(where: WhereExpr): Promise<string> {
    const index = await this.indexState();
    return narrowingQuery(where, { ...index, token: (f, v) => indexToken(this.indexKey, f, v) });
  }

  /** Which plaintext logs to print: those in `range` that match `where`. */
  keep(where: WhereExpr, range: SearchRange): (log: PlainLogLine) => boolean {
    const matches = compileWhere(where);
    return (log) => log.time >= range.from && log.time < range.to && matches(log);
  }

  /**
   * The opened plaintext groups of every shipped Log the narrowed GetLogs query returns before `range.to`, each
   * once; filter their logs with keep().
   */
  async *groups(where: WhereExpr, range: SearchRange): AsyncGenerator<LogGroup> {
    const query = await this.queryFor(where);
    // GetLogs paging may return a shipped Log twice (logs arriving between pages shift the offsets); its logs print once.
    const seen = new Set<string>();
    for await (const row of this.rows(query, range.to)) {
      const record = row.__sealed__;
      if (record === undefined || seen.has(record)) continue;
      seen.add(record);
      this.fetched++;
      yield* await this.open(row);
    }
  }

  /** The plaintext logs in `range` that match `where`, each once, in the order GetLogs returns their shipped Logs. */
  async *search(where: WhereExpr, range: SearchRange): AsyncGenerator<PlainLogLine> {
    const keep = this.keep(where, range);
    for await (const group of this.groups(where, range)) {
      for (const line of plainLines(group)) if (keep(line)) yield line;
    }
  }

  /**
   * Whether the shipped Logs that carry tokens before `to` were made with this index key: for up to 20 of them, the tokens of their decrypted field values are computed and compared with the ones they carry. One
   * match proves the key; tokens are not authenticated, so a forged one can only make a right key look wrong.
   */
  async checkKey(to: number): Promise<KeyCheck> {
    const index = await this.indexState();
    const fields = this.fields.filter((f) => index.indexed.has(f));
    const query = index.guardUnindexed && fields.length > 0 ? fields.map((f) => `${INDEX_TAG_KEY}: "${f}"`).join(' or ') : ALL;
    let checked = 0;
    for await (const row of this.rows(query, to, KEY_CHECK_LOGS)) {
      const carried = new Set(this.fields.flatMap((f) => row[tokenContentKey(f)]?.split(' ') ?? []));
      if (carried.size === 0) continue;
      checked++;
      for (const group of await this.open(row)) {
        for (const log of group.logs) {
          for (const c of log.contents) {
            if (this.fields.includes(c.key) && carried.has(indexToken(this.indexKey, c.key, c.value))) return { checked, madeWithKey: true };
          }
        }
      }
    }
    return { checked, madeWithKey: false };
  }

  close(): void {
    this.dataKeys.close();
    this.indexKey.fill(0);
  }

  private async indexState(): Promise<{ indexed: Set<string>; guardUnindexed: boolean }> {
    if (this.index) return this.index;
    const keys = await this.sls.getIndexKeys(this.logstore);
    if (keys === undefined) {
      throw new SearchSetupError(`logstore ${this.logstore} has no index: set it up with \`logseal logstore update ${this.logstore} -c FILE\``);
    }
    this.index = { indexed: new Set(this.fields.filter((f) => tokenContentKey(f) in keys)), guardUnindexed: INDEX_TAG_KEY in keys };
    return this.index;
  }

  /** Every shipped Log GetLogs answers for `query` in [0, to), page by page; at most `limit` when given. */
  private async *rows(query: string, to: number, limit = Infinity): AsyncGenerator<QueriedLog> {
    // From 0: a shipped Log in mode `group` is timed by its earliest log, so its later logs may lie in the range.
    let offset = 0;
    for (;;) {
      const line = Math.min(this.pageLines, limit - offset);
      const logs = await this.page(query, to, offset, line);
      for (const row of logs) yield row;
      offset += logs.length;
      if (logs.length < line || offset >= limit) return;
    }
  }

  private async page(query: string, to: number, offset: number, line: number): Promise<QueriedLog[]> {
    for (let attempt = 0, wait = 100; ; attempt++, wait = Math.min(2 * wait, 2000)) {
      const page = await this.sls.getLogs(this.logstore, { from: 0, to, query, line, offset });
      if (page.complete) return page.logs;
      // Incomplete: SLS has not searched everything yet; the same call later gives the whole page.
      if (attempt === INCOMPLETE_RETRIES) throw new Error(`GetLogs ${this.logstore}: still Incomplete after ${INCOMPLETE_RETRIES} retries`);
      await delay(wait);
    }
  }

  private async open(row: QueriedLog): Promise<LogGroup[]> {
    const shipped = shippedGroupOf(row);
    const blob = shipped.logTags.find((t) => t.key === '__seal_dk__')?.value;
    if (blob) await this.dataKeys.load(blob);
    try {
      return openShipped(shipped, this.dataKeys.get, { project: this.project, logstore: this.logstore });
    } catch (err) {
      if (err instanceof GroupNotOpened) throw new SearchUnsealError(`shipped log at time ${shipped.logs[0].time}: ${err.message}`);
      throw err;
    }
  }
}
