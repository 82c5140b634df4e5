// `logseal search`: asks GetLogs for the shipped Logs whose tokens can match, opens them, and keeps the logs that do.
import { setTimeout as delay } from 'node:timers/promises';
import { compileWhere, type WhereExpr } from '../decrypt/where.js';
import { toLines } from '../decrypt/reader.js';
import type { PlainLogLine } from '../decrypt/plain-log.js';
import { encryptionContext, type KmsClient } from '../keys/index.js';
import { AuthenticationError, indexToken, openGroup, SealFormatError, tokenContentKey } from '../seal/index.js';
import type { QueriedLog, SlsClient } from '../ship/index.js';
import type { LogGroup } from '../wire/loggroup.js';
import { ALL, narrowingQuery } from './narrowing.js';
import { shippedGroupOf } from './shipped-log.js';
import { INDEX_TAG_KEY } from './sls-index.js';

export interface SearchRange {
  /** Unix seconds: plaintext logs with from <= time < to. */
  from: number;
  to: number;
}

/** A shipped Log that does not authenticate or is not logseal v1: the search stops, nothing of it is printed. */
export class SearchUnsealError extends Error {
  override readonly name = 'SearchUnsealError';
}

/** The Logstore cannot be searched as configured (no index, say). */
export class SearchSetupError extends Error {
  override readonly name = 'SearchSetupError';
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
  private readonly dataKeys = new Map<string, Uint8Array>();
  private index: { indexed: Set<string>; guardUnindexed: boolean } | undefined;
  /** Shipped Logs fetched and opened by the last search. */
  fetched = 0;

  constructor(
    private readonly sls: SlsClient,
    private readonly kms: Pick<KmsClient, 'decrypt'>,
    private readonly project: string,
    private readonly logstore: string,
    private readonly indexKey: Uint8Array,
    private readonly fields: readonly string[],
    /** Logs per GetLogs call (tests make pages small to page often). */
    private readonly pageLines = PAGE_LINES,
  ) {}

  /** The GetLogs query for `where`, given which token keys the Logstore's index has. */
  async queryFor(where: WhereExpr): Promise<string> {
    const index = await this.indexState();
    return narrowingQuery(where, { ...index, token: (f, v) => indexToken(this.indexKey, f, v) });
  }

  /** The plaintext logs in `range` that match `where`, each once, in the order GetLogs returns their shipped Logs. */
  async *search(where: WhereExpr, range: SearchRange): AsyncGenerator<PlainLogLine> {
    const query = await this.queryFor(where);
    const keep = compileWhere(where);
    // GetLogs paging may return a shipped Log twice (logs arriving between pages shift the offsets); its logs print once.
    const seen = new Set<string>();
    for await (const row of this.rows(query, range.to)) {
      const record = row.__sealed__;
      if (record === undefined || seen.has(record)) continue;
      seen.add(record);
      this.fetched++;
      for (const group of await this.open(row)) {
        for (const line of toLines(group)) if (line.time >= range.from && line.time < range.to && keep(line)) yield line;
      }
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
    for (const k of this.dataKeys.values()) k.fill(0);
    this.dataKeys.clear();
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
    const where = `shipped log at time ${shipped.logs[0].time}`;
    const blob = shipped.logTags.find((t) => t.key === '__seal_dk__')?.value;
    if (!blob) throw new SearchUnsealError(`${where}: not sealed by logseal (no __tag__:__seal_dk__)`);
    if (!this.dataKeys.has(blob)) this.dataKeys.set(blob, await this.kms.decrypt(blob, encryptionContext(this.project, this.logstore)));
    try {
      return openGroup(shipped, (b) => this.dataKeys.get(b)!, { project: this.project, logstore: this.logstore });
    } catch (err) {
      if (err instanceof AuthenticationError) throw new SearchUnsealError(`${where}: record does not authenticate (${err.message})`);
      if (err instanceof SealFormatError) throw new SearchUnsealError(`${where}: ${err.message}`);
      throw err;
    }
  }
}
