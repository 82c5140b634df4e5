// Groups the input's runs of encoded logs into plaintext LogGroups per (output, topic, source, tags), flushed by size,
// count or linger time. A group is assembled from byte ranges of the runs, copied as they arrive (the input reuses a run's
// memory once read again), into buffers that come back for reuse once a batch is sealed: at full speed hardly any
// buffer is freshly allocated, and buffer churn no longer drives V8's garbage collections.
import type { InputRun } from '../input/index.js';
import { encodeLogGroup, type LogTag } from '../wire/loggroup.js';

export interface BatchLimits {
  /** Encoded bytes of one group's logs before it is flushed. */
  maxBytes: number;
  /** Logs per group; SLS accepts at most 4096. */
  maxLogs: number;
  /** How long the first log of a group may wait for company. */
  lingerMs: number;
}

/** The output (Logstore and CMK) the logs of a configured input go to; a batch never mixes outputs. Default: all 0. */
export type OutputOf = (input: number) => number;

/** What the batcher groups: the input stage's runs. */
export type BatchRun = InputRun;

export interface PlainBatch {
  id: number;
  /** The output all of this batch's logs go to. */
  output: number;
  /**
   * The LogGroup's protobuf encoding (as encodeLogGroup writes it), at the start of an ArrayBuffer of its own that
   * may be larger: move the buffer, then give it back with recycle() once done with it.
   */
  encoded: Uint8Array;
  logCount: number;
  /** Per file, the offset just past the last log in this batch: the checkpoint once it is acknowledged. */
  ends: Map<string, number>;
  /** Per file, how many of this batch's logs came from it. */
  counts: Map<string, number>;
  /** Encoded bytes of the logs (the group's own fields not counted). */
  bytes: number;
}

/** A group's fields other than its logs, and the key it is batched under. */
interface GroupShape {
  output: number;
  topic: string;
  source: string;
  key: string;
  tail: Uint8Array;
}

interface OpenGroup {
  shape: GroupShape;
  buf: Uint8Array;
  logs: number;
  bytes: number;
  ends: Map<string, number>;
  counts: Map<string, number>;
  openedAt: number;
}

export const SLS_MAX_LOGS_PER_GROUP = 4096;

/** Room in a group buffer beyond maxBytes, for the group's own fields. */
const TAIL_ROOM = 64 * 1024;
/** Buffers kept for reuse: enough for the batches a pipeline has in flight. */
const MAX_SPARE = 32;
/** Group buffers are allocated in multiples of this. */
const BUFFER_STEP = 64 * 1024;

function groupKey(r: BatchRun, output: number): string {
  let key = `${output}\u0000${r.topic}\u0000${r.source}`;
  for (const t of r.tags) key += `\u0000${t.key}\u0001${t.value}`;
  return key;
}

// The input hands out one tags array per file, so a group's key and encoded fields are built once per file.
const shapes = new WeakMap<LogTag[], GroupShape>();

function shapeOf(r: BatchRun, output: number): GroupShape {
  const hit = shapes.get(r.tags);
  if (hit && hit.output === output && hit.topic === r.topic && hit.source === r.source) return hit;
  const shape: GroupShape = {
    output,
    topic: r.topic,
    source: r.source,
    key: groupKey(r, output),
    tail: encodeLogGroup({ logs: [], topic: r.topic, source: r.source, logTags: r.tags }),
  };
  shapes.set(r.tags, shape);
  return shape;
}

/** The number of logs from `from` on, at most `limit` of them, whose fields fit in `budget` bytes. */
function logsWithin(run: BatchRun, from: number, limit: number, budget: number): number {
  const base = from === 0 ? 0 : run.ends[from - 1];
  let lo = from;
  let hi = Math.min(run.count, from + limit);
  // The largest `to` with ends[to - 1] - base <= budget: ends grow, so bisect.
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (run.ends[mid - 1] - base <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo - from;
}

export class Batcher {
  private readonly open = new Map<string, OpenGroup>();
  private nextId = 1;
  private readonly spare: ArrayBuffer[] = [];
  /** The largest group buffer worth keeping: a full group plus its own fields. */
  private readonly maxCapacity: number;
  /**
   * The size new group buffers get: what recent batches needed. Sizing buffers to use rather than to maxBytes matters
   * beyond memory: V8 counts every buffer moved in from a worker as freshly allocated, and an oversized one brings
   * its collections on sooner. (They stay ArrayBuffers: copying lines into a SharedArrayBuffer, as the bodies are
   * (seal/shared-buffers.ts), went through V8's slower copy for shared memory, and at 10 MB/s that cost more than
   * the collections it saved.)
   */
  private capacity = BUFFER_STEP;

  constructor(
    private readonly limits: BatchLimits,
    private readonly now: () => number = Date.now,
    private readonly outputOf: OutputOf = () => 0,
  ) {
    if (limits.maxLogs < 1 || limits.maxLogs > SLS_MAX_LOGS_PER_GROUP) {
      throw new RangeError(`batch.maxLogs must be between 1 and ${SLS_MAX_LOGS_PER_GROUP}`);
    }
    this.maxCapacity = roundUp(limits.maxBytes + TAIL_ROOM);
  }

  /** Hands back the ArrayBuffer of a batch's `encoded` once nothing reads it any more; a later group reuses it. */
  recycle(buffer: ArrayBufferLike): void {
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < this.capacity || buffer.byteLength > this.maxCapacity) return;
    if (this.spare.length < MAX_SPARE) this.spare.push(buffer);
  }

  /** Lets go of the buffers kept for reuse (an agent gone quiet: up to one per batch that was in flight at once). */
  releaseSpares(): void {
    this.spare.length = 0;
  }

  /** Adds a run's logs, in order; returns the batches that became full. */
  add(run: BatchRun): PlainBatch[] {
    const shape = shapeOf(run, this.outputOf(run.input));
    const full: PlainBatch[] = [];
    let from = 0;
    while (from < run.count) {
      let g = this.open.get(shape.key);
      if (!g) {
        const buf = new Uint8Array(this.takeSpare() ?? new ArrayBuffer(this.capacity));
        g = { shape, buf, logs: 0, bytes: 0, ends: new Map(), counts: new Map(), openedAt: this.now() };
        this.open.set(shape.key, g);
      }
      let n = logsWithin(run, from, this.limits.maxLogs - g.logs, this.limits.maxBytes - g.bytes);
      if (n === 0) {
        if (g.logs > 0) {
          full.push(this.close(g));
          continue;
        }
        n = 1; // a log larger than maxBytes travels alone
      }
      const to = from + n;
      const start = from === 0 ? 0 : run.ends[from - 1];
      const end = run.ends[to - 1];
      if (g.bytes + (end - start) > g.buf.length) this.grow(g, g.bytes + (end - start));
      g.buf.set(run.bytes.subarray(start, end), g.bytes);
      g.logs += n;
      g.bytes += end - start;
      g.ends.set(run.fileId, run.offsets[to - 1]);
      g.counts.set(run.fileId, (g.counts.get(run.fileId) ?? 0) + n);
      from = to;
      if (g.logs >= this.limits.maxLogs || g.bytes >= this.limits.maxBytes) full.push(this.close(g));
    }
    return full;
  }

  /** Batches whose linger time has passed. */
  due(): PlainBatch[] {
    const deadline = this.now() - this.limits.lingerMs;
    const out: PlainBatch[] = [];
    for (const g of this.open.values()) if (g.openedAt <= deadline) out.push(this.close(g));
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
    return [...this.open.values()].map((g) => this.close(g));
  }

  get openLogs(): number {
    let n = 0;
    for (const g of this.open.values()) n += g.logs;
    return n;
  }

  private takeSpare(): ArrayBuffer | undefined {
    while (this.spare.length > 0) {
      const buffer = this.spare.pop()!;
      if (buffer.byteLength >= this.capacity) return buffer;
    }
    return undefined;
  }

  private grow(g: OpenGroup, size: number): void {
    const buf = new Uint8Array(roundUp(Math.max(size, Math.min(2 * g.buf.length, this.maxCapacity))));
    buf.set(g.buf.subarray(0, g.bytes));
    g.buf = buf;
  }

  private close(g: OpenGroup): PlainBatch {
    this.open.delete(g.shape.key);
    const tail = g.shape.tail;
    if (g.bytes + tail.length > g.buf.length) this.grow(g, g.bytes + tail.length);
    // Follow what batches need: up at once, down slowly.
    const need = roundUp(g.bytes + tail.length);
    this.capacity = Math.min(this.maxCapacity, Math.max(need, this.capacity - BUFFER_STEP));
    g.buf.set(tail, g.bytes);
    const encoded = g.buf.subarray(0, g.bytes + tail.length);
    return { id: this.nextId++, output: g.shape.output, encoded, logCount: g.logs, ends: g.ends, counts: g.counts, bytes: g.bytes };
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / BUFFER_STEP) * BUFFER_STEP;
}
