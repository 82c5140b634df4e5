// DecryptEngine: reads shards concurrently, opens their pages on worker threads, and writes the output to one sink in
// per-shard order, with bounded work in flight per shard and overall, and backpressure from the sink.
import { availableParallelism } from 'node:os';
import { SlsError, type SlsClient } from '../ship/index.js';
import { DecryptPool } from './decrypt-pool.js';
import { CursorError, UnsealError } from './errors.js';
import type { DataKeyRing } from './key-ring.js';
import type { RenderedGroups } from './open-groups.js';
import { Slots } from './slots.js';
import type { ReadView } from './view.js';


export interface ShardRange {
  logstore: string;
  shard: number;
  /** Cursor of the first group to read. */
  from: string;
  /** End cursor (exclusive); absent = follow: keep reading new data until stopShard. */
  to?: string;
}

export interface DecryptEngineOptions {
  sls: Pick<SlsClient, 'pullLogsBody'>;
  keys: DataKeyRing;
  project: string;
  view: ReadView;
  /** Where the output bytes go; its write callbacks and 'drain' pace the reading. Unused for format count. */
  out: NodeJS.WritableStream;
  /**
   * True when `out` has taken a chunk's bytes by the time it calls back (a file, a pipe, a socket): the engine then
   * writes pages straight from its reused output memory. Otherwise (a stream that may keep the Buffer, e.g. one that
   * collects chunks) each page is copied first.
   */
  outCopiesOnCallback?: boolean;
  /** --where fields to report in `seenFields`. */
  trackFields?: string[];
  threads?: number;
  /**
   * LogGroups per PullLogs call. Default 3: a LogGroup is up to ~1 MB of plaintext, several MB as NDJSON, and every
   * page in flight holds its body and output in memory (measured: 3 needs no more CPU than 4 and ~10 MB less RSS).
   */
  pullCount?: number;
  /** Pages pulled but not yet written, over all shards. Default threads + 1: one opening on each thread, one writing. */
  maxInFlight?: number;
  /** Pages pulled but not yet written, per shard. Default 2. */
  maxInFlightPerShard?: number;
  /** How long a followed shard that is caught up waits before asking again. Default 1 s. */
  followIntervalMs?: number;
}

export interface EngineStats {
  pages: number;
  groups: number;
  /** Plaintext logs read, before the filter. */
  logs: number;
  /** Lines that passed the filter. */
  lines: number;
  /** Bytes of LogGroupList pulled (uncompressed). */
  bytesPulled: number;
  bytesWritten: number;
  /** Pages pulled and not yet written, now and at most. */
  inFlight: number;
  peakInFlight: number;
}

interface Pulled {
  cursor: string;
  nextCursor: string;
  result: Promise<RenderedGroups>;
}

class ShardRun {
  cursor: string;
  written: string;
  stopped = false;
  pulling = true;
  readonly abort = new AbortController();
  readonly queue: Pulled[] = [];
  readonly slots: Slots;
  wakeWriter: (() => void) | undefined;
  wakePuller: (() => void) | undefined;
  done!: Promise<void>;

  constructor(
    readonly range: ShardRange,
    perShard: number,
    readonly onWritten?: (nextCursor: string) => void,
  ) {
    this.cursor = range.from;
    this.written = range.from;
    this.slots = new Slots(perShard);
  }
}

export class DecryptEngine {
  private readonly pool: DecryptPool;
  private readonly global: Slots;
  private readonly runs = new Map<number, ShardRun>();
  private readonly seen = new Set<string>();
  private failure: unknown;
  private readonly failedAt: Promise<never>;
  private rejectFailed!: (err: unknown) => void;
  private closed = false;
  private drain: Promise<void> | undefined;
  private readonly counters = { pages: 0, groups: 0, logs: 0, lines: 0, bytesPulled: 0, bytesWritten: 0 };
  private readonly threads: number;

  constructor(private readonly o: DecryptEngineOptions) {
    this.threads = Math.max(1, o.threads ?? availableParallelism());
    const inFlight = o.maxInFlight ?? this.threads + 1;
    // Every page pulled and not yet written may hold an output slot: as many slots as pages in flight.
    this.pool = new DecryptPool(o.keys, this.threads, inFlight);
    this.global = new Slots(inFlight);
    this.failedAt = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failedAt.catch(() => {});
  }

  /** Rejects with the first error of any shard, bounded or followed. */
  failed(): Promise<never> {
    return this.failedAt;
  }

  get stats(): EngineStats {
    return { ...this.counters, inFlight: this.global.inUse, peakInFlight: this.global.peak };
  }

  /** Fields of `trackFields` that occurred in at least one log read. */
  get seenFields(): ReadonlySet<string> {
    return this.seen;
  }

  /** Where each shard stands: its start, the cursor written up to, and its end (absent when followed). */
  positions(): Array<{ shard: number; from: string; written: string; to?: string; done: boolean }> {
    return [...this.runs.values()].map((r) => ({
      shard: r.range.shard,
      from: r.range.from,
      written: r.written,
      ...(r.range.to !== undefined ? { to: r.range.to } : {}),
      done: !r.pulling && r.queue.length === 0,
    }));
  }

  startShard(range: ShardRange, onWritten?: (nextCursor: string) => void): void {
    if (this.closed) throw new Error('decrypt engine is closed');
    if (this.runs.has(range.shard)) throw new Error(`shard ${range.shard} is already being read`);
    const run = new ShardRun(range, this.o.maxInFlightPerShard ?? 2, onWritten);
    this.runs.set(range.shard, run);
    run.done = Promise.all([this.pullLoop(run), this.writeLoop(run)]).then(() => undefined);
    run.done.catch(() => {}); // reported through finished()
  }

  /** Stops pulling `shard`, lets what was pulled be written, and resolves the cursor written up to. */
  async stopShard(shard: number): Promise<string | undefined> {
    const run = this.runs.get(shard);
    if (!run) return undefined;
    this.halt(run);
    await run.done.catch(() => {});
    // A consumer group may hand the shard back to this process later; it starts again from its checkpoint.
    if (this.runs.get(shard) === run) this.runs.delete(shard);
    return run.written;
  }

  /** Resolves when every bounded shard is read and written; rejects with the first error. */
  async finished(): Promise<void> {
    for (;;) {
      const runs = [...this.runs.values()].filter((r) => r.range.to !== undefined || r.stopped);
      await Promise.all(runs.map((r) => r.done));
      if (this.failure !== undefined) throw this.failure;
      if ([...this.runs.values()].filter((r) => r.range.to !== undefined || r.stopped).length === runs.length) return;
    }
  }

  /** Stops every shard (what was pulled is still written), then the worker threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const run of this.runs.values()) this.halt(run);
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
    await this.pool.close();
  }

  private halt(run: ShardRun): void {
    run.stopped = true;
    run.abort.abort();
    run.wakePuller?.();
  }

  private fail(err: unknown): void {
    if (this.failure === undefined) {
      this.failure = err;
      this.rejectFailed(err);
    }
    for (const run of this.runs.values()) this.halt(run);
  }

  private async pullLoop(run: ShardRun): Promise<void> {
    const { logstore, shard, to } = run.range;
    let first = true;
    try {
      while (!run.stopped) {
        await run.slots.acquire();
        await this.global.acquire();
        let page;
        const loan = this.pool.lendBody();
        try {
          if (run.stopped) throw new Halt();
          page = await this.o.sls.pullLogsBody(logstore, shard, run.cursor, this.o.pullCount ?? 3, {
            ...(to !== undefined ? { endCursor: to } : {}),
            signal: run.abort.signal,
            ...(loan ? { bodyInto: loan.bodyInto } : {}),
          });
        } catch (err) {
          this.pool.returnBody(loan);
          this.global.release();
          run.slots.release();
          if (err instanceof Halt || run.stopped) return;
          if (err instanceof SlsError && err.code === 'InvalidCursor') throw new CursorError(shard, run.cursor, first ? 'the service refuses it (past the end of the shard, or not a cursor of it)' : err.message);
          throw err;
        }
        first = false;
        const empty = page.count === 0 || (page.count < 0 && page.body.length === 0) || page.nextCursor === run.cursor;
        if (empty) {
          this.pool.returnBody(loan);
          this.global.release();
          run.slots.release();
          if (to !== undefined) return;
          await this.idle(run);
          continue;
        }
        this.counters.pages++;
        this.counters.bytesPulled += page.rawSize;
        const pulled: Pulled = {
          cursor: run.cursor,
          nextCursor: page.nextCursor,
          result: this.pool.open(page, { project: this.o.project, logstore }, this.o.view, this.o.trackFields ?? [], loan),
        };
        pulled.result.catch(() => {}); // awaited in order by the writer
        run.queue.push(pulled);
        run.wakeWriter?.();
        run.cursor = page.nextCursor;
        if (to !== undefined && page.nextCursor === to) return;
      }
    } catch (err) {
      this.fail(err);
    } finally {
      run.pulling = false;
      run.wakeWriter?.();
    }
  }

  private idle(run: ShardRun): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.o.followIntervalMs ?? 1000);
      function done(): void {
        clearTimeout(timer);
        run.wakePuller = undefined;
        resolve();
      }
      run.wakePuller = done;
    });
  }

  private async writeLoop(run: ShardRun): Promise<void> {
    for (;;) {
      const next = run.queue[0];
      if (!next) {
        if (!run.pulling) return;
        await new Promise<void>((resolve) => (run.wakeWriter = resolve));
        run.wakeWriter = undefined;
        continue;
      }
      try {
        if (this.failure !== undefined) return;
        const r = await next.result;
        if (this.failure !== undefined) return;
        this.counters.groups += r.groups;
        this.counters.logs += r.logs;
        this.counters.lines += r.lines;
        for (const f of r.seen) this.seen.add(f);
        // Output of the groups before a bad one is written; nothing of the bad group is.
        if (r.release && !this.o.outCopiesOnCallback) {
          const copy = Buffer.from(r.out);
          r.release();
          await this.write(copy);
        } else {
          await this.write(r.out);
          r.release?.();
        }
        if (r.failure !== undefined) {
          this.fail(new UnsealError(`shard ${run.range.shard} cursor ${next.cursor}`, r.failure));
          return;
        }
        run.written = next.nextCursor;
        run.onWritten?.(next.nextCursor);
      } catch (err) {
        this.fail(err);
        return;
      } finally {
        // A page not written (failure, stop) hands its output memory back too.
        void run.queue.shift()?.result.then((r) => r.release?.(), () => {});
        this.global.release();
        run.slots.release();
      }
    }
  }

  /** Writes one piece of output; resolves once the sink has taken it (write callback), after any 'drain' it asked for. */
  private async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0 || this.o.view.format === 'count') return;
    while (this.drain) await this.drain;
    const written = new Promise<void>((resolve, reject) => {
      const ok = this.o.out.write(bytes, (err?: Error | null) => (err ? reject(err) : resolve()));
      if (!ok) {
        // A sink that fails or closes never drains; the write's own callback then reports the error.
        this.drain = new Promise<void>((resolve) => {
          const done = (): void => {
            this.o.out.off('drain', done).off('error', done).off('close', done);
            resolve();
          };
          this.o.out.once('drain', done).once('error', done).once('close', done);
        }).then(() => {
          this.drain = undefined;
        });
      }
    });
    this.counters.bytesWritten += bytes.length;
    await written;
  }
}

/** Thrown inside the pull loop when a shard was stopped between waiting for a slot and pulling. */
class Halt extends Error {}
