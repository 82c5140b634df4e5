// Groups input entries into plaintext LogGroups per (topic, source, tags), flushed by size, count or linger time.
import type { InputEntry } from '../input/index.js';
import type { Log, LogGroup, LogTag } from '../wire/loggroup.js';

export interface BatchLimits {
  /** Estimated encoded bytes of one group's logs before it is flushed. */
  maxBytes: number;
  /** Logs per group; SLS accepts at most 4096. */
  maxLogs: number;
  /** How long the first entry of a group may wait for company. */
  lingerMs: number;
}

/** What the batcher groups: the input stage's entries. */
export type BatchEntry = InputEntry;

export interface PlainBatch {
  id: number;
  group: LogGroup;
  /** Per file, the offset just past the last entry in this batch: the checkpoint once it is acknowledged. */
  ends: Map<string, number>;
  /** Per file, how many of this batch's logs came from it. */
  counts: Map<string, number>;
  /** Estimated encoded size of the logs. */
  bytes: number;
}

interface OpenGroup {
  group: LogGroup;
  ends: Map<string, number>;
  counts: Map<string, number>;
  bytes: number;
  openedAt: number;
}

export const SLS_MAX_LOGS_PER_GROUP = 4096;

// Protobuf framing per content (two tags, two lengths) and per log (tag, length, time); an estimate that errs high.
const CONTENT_OVERHEAD = 8;
const LOG_OVERHEAD = 12;

function valueLength(value: string | Uint8Array): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
}

export function estimateLogBytes(log: Log): number {
  let n = LOG_OVERHEAD;
  for (const c of log.contents) n += c.key.length + valueLength(c.value) + CONTENT_OVERHEAD;
  return n;
}

function groupKey(e: BatchEntry): string {
  let key = `${e.topic}\u0000${e.source}`;
  for (const t of e.tags) key += `\u0000${t.key}\u0001${t.value}`;
  return key;
}

// The input hands out one tags array per file, so the key is built once per file rather than once per line
// (building it per line was a fifth of the agent's main-thread time).
const keyCache = new WeakMap<LogTag[], { topic: string; source: string; key: string }>();

function cachedGroupKey(e: BatchEntry): string {
  const hit = keyCache.get(e.tags);
  if (hit && hit.topic === e.topic && hit.source === e.source) return hit.key;
  const key = groupKey(e);
  keyCache.set(e.tags, { topic: e.topic, source: e.source, key });
  return key;
}

export class Batcher {
  private readonly open = new Map<string, OpenGroup>();
  private nextId = 1;

  constructor(
    private readonly limits: BatchLimits,
    private readonly now: () => number = Date.now,
  ) {
    if (limits.maxLogs < 1 || limits.maxLogs > SLS_MAX_LOGS_PER_GROUP) {
      throw new RangeError(`batch.maxLogs must be between 1 and ${SLS_MAX_LOGS_PER_GROUP}`);
    }
  }

  /** Adds an entry; returns the batches that became full. */
  add(entry: BatchEntry): PlainBatch[] {
    const key = cachedGroupKey(entry);
    const size = estimateLogBytes(entry.log);
    const full: PlainBatch[] = [];
    let current = this.open.get(key);
    if (current && current.bytes + size > this.limits.maxBytes && current.group.logs.length > 0) {
      full.push(this.close(key, current));
      current = undefined;
    }
    if (!current) {
      current = {
        group: { logs: [], topic: entry.topic, source: entry.source, logTags: entry.tags },
        ends: new Map(),
        counts: new Map(),
        bytes: 0,
        openedAt: this.now(),
      };
      this.open.set(key, current);
    }
    current.group.logs.push(entry.log);
    current.ends.set(entry.fileId, entry.endOffset);
    current.counts.set(entry.fileId, (current.counts.get(entry.fileId) ?? 0) + 1);
    current.bytes += size;
    if (current.group.logs.length >= this.limits.maxLogs || current.bytes >= this.limits.maxBytes) {
      full.push(this.close(key, current));
    }
    return full;
  }

  /** Batches whose linger time has passed. */
  due(): PlainBatch[] {
    const deadline = this.now() - this.limits.lingerMs;
    const out: PlainBatch[] = [];
    for (const [key, g] of this.open) if (g.openedAt <= deadline) out.push(this.close(key, g));
    return out;
  }

  /** Milliseconds until the oldest open group is due, or undefined when nothing is open. */
  msUntilDue(): number | undefined {
    let oldest: number | undefined;
    for (const g of this.open.values()) if (oldest === undefined || g.openedAt < oldest) oldest = g.openedAt;
    return oldest === undefined ? undefined : Math.max(0, oldest + this.limits.lingerMs - this.now());
  }

  /** Everything still open, e.g. when draining. */
  flushAll(): PlainBatch[] {
    return [...this.open.entries()].map(([key, g]) => this.close(key, g));
  }

  get openLogs(): number {
    let n = 0;
    for (const g of this.open.values()) n += g.group.logs.length;
    return n;
  }

  private close(key: string, g: OpenGroup): PlainBatch {
    this.open.delete(key);
    return { id: this.nextId++, group: g.group, ends: g.ends, counts: g.counts, bytes: g.bytes };
  }
}
