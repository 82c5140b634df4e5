// Follows the files matched by the configured globs and hands out their lines as encoded runs, at the consumer's pace.
//
// Guarantees: the logs of one file come out in file order with growing offsets; a line is neither lost nor
// repeated across rename rotation, deletion and restarts from acknowledged checkpoints. Known limit: with
// copytruncate rotation, lines the application writes between the copy and the truncate that lie beyond our offset
// are lost by the rotation itself (they are in neither file once truncated); and a glob that also matches the copies
// reads them as new files.
//
// Many files: reading is round robin, at most one chunk per file per turn, so a busy file does not hold back the
// others; idle files are closed (closeInactive) and at most maxOpenFiles are open at once (see FileRegistry).
import os from 'node:os';
import path from 'node:path';
import { CheckpointMatcher } from './checkpoint-match.js';
import { DirWatcher } from './dir-watcher.js';
import { FileRegistry } from './file-registry.js';
import { FileScanner } from './file-scan.js';
import { describeError } from './fs-errors.js';
import { compileInput, type CompiledInput } from './input-config.js';
import { InputEvents } from './input-events.js';
import { RunQueue } from './run-queue.js';
import type { ReadOutcome, Tailer } from './tailer.js';
import type { FileCheckpoint, InputConfig, InputEvent, InputFile, InputRun, InputStats } from './types.js';
import { Wakeup } from './wakeup.js';

export interface FileInputOptions {
  /** Checkpoints saved by the pipeline (acknowledged offsets), keyed by fileId. */
  checkpoints: Map<string, FileCheckpoint>;
  hostname?: string;
  /** Largest single read. Default 512 KiB. */
  readChunkBytes?: number;
  /** Wall clock for Log.time, in ms. */
  now?: () => number;
  onEvent?: (e: InputEvent) => void;
  /** How long a rotated or deleted file must stay quiet at EOF before it is closed. Default 5000. */
  rotateWaitMs?: number;
  /** How often a rotated or deleted file at EOF is checked for more data (followed paths are checked by scans). Default 250. */
  pollIntervalMs?: number;
  /** Files held open at once across all inputs; the least recently active close first. Default 1024. */
  maxOpenFiles?: number;
}

export const DEFAULT_READ_CHUNK_BYTES = 512 * 1024;
export const DEFAULT_ROTATE_WAIT_MS = 5000;
export const DEFAULT_POLL_INTERVAL_MS = 250;
export const DEFAULT_MAX_OPEN_FILES = 1024;
/** Delay before a rescan prompted by a directory change, so a burst of changes costs one scan. */
const SCAN_SOON_MS = 20;

export class FileInput {
  private readonly inputs: CompiledInput[];
  private readonly chunkBytes: number;
  /** One read buffer for all files (reads run one at a time): touched memory is reused instead of freshly faulted in. */
  private readonly readBuffer: Buffer;
  private readonly rotateWaitMs: number;
  private readonly pollIntervalMs: number;
  private readonly scanIntervalMs: number;

  private readonly events: InputEvents;
  private readonly runs: RunQueue;
  private readonly followed: FileRegistry;
  private readonly scanner: FileScanner;
  /** Where the next fill() starts its round over the files, so each gets its turn. */
  private cursor = 0;

  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly wakeup = new Wakeup();
  private scanTimer: NodeJS.Timeout | undefined;
  private scanDueAt = Infinity;
  private readonly watcher = new DirWatcher((dir, event, name) => this.dirChanged(dir, event, name));

  constructor(inputs: InputConfig[], o: FileInputOptions) {
    const hostname = o.hostname ?? os.hostname();
    this.inputs = inputs.map((cfg, i) => compileInput(cfg, i, hostname));
    this.chunkBytes = Math.max(4096, Math.floor(o.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES));
    // Room for the chunk plus a typical held partial line in front of it.
    this.readBuffer = Buffer.allocUnsafeSlow(this.chunkBytes + 16 * 1024);
    // A chunk's logs take ~15 % more than its lines (protobuf framing); short lines take more and grow the buffer.
    // Runs from reads of less than half a chunk are small enough to get buffers of their own size.
    this.runs = new RunQueue(Math.ceil(this.chunkBytes * 1.25) + 64 * 1024, Math.min(this.chunkBytes / 2, 64 * 1024));
    this.events = new InputEvents(o.onEvent ?? (() => {}));
    this.rotateWaitMs = o.rotateWaitMs ?? DEFAULT_ROTATE_WAIT_MS;
    this.pollIntervalMs = o.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.scanIntervalMs = Math.min(...this.inputs.map((i) => i.scanIntervalMs), 60_000);
    const maxOpen = Math.max(1, Math.floor(o.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES));
    const runs = { push: this.pushRun, allocate: this.runs.allocate };
    this.followed = new FileRegistry(maxOpen, hostname, o.now ?? Date.now, runs, this.events, () => this.wakeup.wake());
    const resume = new CheckpointMatcher(o.checkpoints.values());
    this.scanner = new FileScanner(this.inputs, this.followed, resume, this.events, () => this.closed);
    this.runScan();
  }

  /**
   * Pull-based: the consumer's pace is the backpressure. Resolves once logs are available with runs holding at most
   * maxLogs logs in all (at least one; a run is cut when needed). Resolves [] only after close().
   * The runs' memory is reused once read() is called again: a consumer copies what it keeps.
   */
  async read(maxLogs: number): Promise<InputRun[]> {
    const max = Math.max(1, Math.floor(maxLogs));
    this.runs.reclaimLent();
    for (;;) {
      if (this.closed) return [];
      if (!this.runs.empty) return this.take(max);
      await this.exclusive(() => this.fill(max));
      if (this.closed) return [];
      if (!this.runs.empty) return this.take(max);
      await this.wakeup.wait(this.waitMs());
    }
  }

  /**
   * Files currently known, with identity and offset = the offset after the last log read() returned (startOffset
   * before any). A finished file stays listed until all its logs have been returned, then drops out.
   */
  files(): InputFile[] {
    return this.followed.tailers.map((t) => t.describe());
  }

  /** Per configured input, in order. */
  stats(): InputStats[] {
    return this.inputs.map((i) => ({ malformedLines: i.malformedLines, rateLimitedMs: i.rate?.limitedMs ?? 0 }));
  }

  /** Stop watching; pending partial lines stay unread (they are re-read after restart from the checkpoint). */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    clearTimeout(this.scanTimer);
    this.watcher.close();
    this.wakeup.wake();
    this.closing = this.exclusive(async () => {
      await this.followed.closeAll();
      this.runs.clear();
    });
    return this.closing;
  }

  private take(max: number): InputRun[] {
    const { runs, drainedFinished } = this.runs.take(max);
    if (drainedFinished) this.followed.forgetDrained();
    return runs;
  }

  // ---- reading: one chunk per file per turn, round robin

  /** Every run a file hands out: queued, and charged to its input's rateLimit (lines are known only once framed). */
  private readonly pushRun = (run: InputRun, from: Tailer): void => {
    this.runs.push(run, from);
    from.input.rate?.charge(run.count, run.offsets[run.count - 1] - run.startOffset);
  };

  /** Reads one chunk from each file in turn until `max` logs are ready, or every file is at EOF. */
  private async fill(max: number): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const live = this.followed.tailers.filter((t) => !t.finished);
      const n = live.length;
      if (n === 0) return;
      let progressed = false;
      for (let k = 0; k < n && !this.closed; k++) {
        const t = live[(this.cursor + k) % n];
        if (t.finished || !this.worthChecking(t, performance.now())) continue;
        const chunkBytes = t.input.rate ? t.input.rate.readBytes(this.chunkBytes) : this.chunkBytes;
        if (chunkBytes === 0) continue; // over its input's rateLimit: waitMs() says when to come back
        try {
          const outcome = t.fh ? await t.readChunk(chunkBytes, this.readBuffer) : await this.reopen(t, chunkBytes);
          if (outcome === 'data') {
            progressed = true;
            this.followed.touch(t);
            this.events.clearReport(t.path);
          } else if (outcome === 'moved') {
            // Its name is another file's now: the next scan finds where it went.
            t.changed = false;
            t.retryAt = performance.now() + SCAN_SOON_MS;
            this.scheduleScan(SCAN_SOON_MS);
          } else if (outcome === 'replaced') {
            await this.followed.restartReplaced(t);
            progressed = true;
          } else {
            await this.settleAtEof(t);
          }
        } catch (err) {
          this.events.report(t.path, `cannot read ${t.path}: ${describeError(err)}`);
          t.retryAt = performance.now() + this.scanIntervalMs;
        }
        if (this.runs.logs >= max) {
          this.cursor = (this.cursor + k + 1) % n;
          return;
        }
      }
      this.cursor = (this.cursor + 1) % n;
      if (!this.runs.empty || !progressed) return;
    }
  }

  /**
   * A file known to be at EOF is read again only when a watch event or a scan saw it change, or something is due for
   * it; a detached file (no longer matched by a scan) is polled. With many idle files, read() then costs nothing.
   */
  private worthChecking(t: Tailer, mono: number): boolean {
    if (t.retryAt > mono) return false;
    if (t.idleSince === undefined || t.changed) return true;
    if (!t.attached && mono - t.idleSince >= this.pollIntervalMs) return true;
    const due = t.deadline(this.rotateWaitMs);
    return due !== undefined && due <= mono;
  }

  /** A closed file changed: reopened, it is read at once (its turn is not lost to the reopening). */
  private async reopen(t: Tailer, chunkBytes: number): Promise<ReadOutcome | 'moved'> {
    const reopened = await this.followed.reopen(t);
    if (reopened !== 'ok') return reopened;
    return t.readChunk(chunkBytes, this.readBuffer);
  }

  private async settleAtEof(t: Tailer): Promise<void> {
    const mono = performance.now();
    t.flushIfQuiet(mono);
    if (!t.attached && mono - t.quietSince >= this.rotateWaitMs) await this.followed.finish(t);
  }

  // ---- waiting

  /**
   * How long a read() with nothing to hand out sleeps unless woken. A followed file at EOF is read again only after a
   * watch event or a scan flagged it (both wake the read), so only detached files, deadlines, read retries and rate
   * limits need a timer: an idle agent following its files does not wake up for them between scans.
   */
  private waitMs(): number {
    const mono = performance.now();
    let wait = this.scanIntervalMs;
    for (const t of this.followed.tailers) {
      if (t.finished) continue;
      if (!t.attached) wait = Math.min(wait, this.pollIntervalMs);
      if (t.retryAt > mono) wait = Math.min(wait, t.retryAt - mono);
      const at = t.deadline(this.rotateWaitMs);
      if (at !== undefined) wait = Math.min(wait, at - mono);
    }
    for (const input of this.inputs) if (input.rate) wait = Math.min(wait, input.rate.msUntilReady());
    return Math.max(1, Math.ceil(wait));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  // ---- discovering files

  private runScan(): void {
    this.scanner
      .look()
      .then((result) =>
        this.exclusive(async () => {
          await this.scanner.apply(result);
          if (this.closed) return;
          this.watcher.update(result.dirs);
          await this.followed.closeInactive(performance.now());
        }),
      )
      .catch((err) => this.events.report('<scan>', `scan failed: ${String((err as Error)?.message ?? err).split('\n')[0]}`))
      .finally(() => {
        this.wakeup.wake();
        this.scheduleScan(this.scanIntervalMs);
      });
  }

  private scheduleScan(delayMs: number): void {
    if (this.closed) return;
    const due = performance.now() + delayMs;
    if (this.scanTimer !== undefined && this.scanDueAt <= due) return;
    clearTimeout(this.scanTimer);
    this.scanDueAt = due;
    // Unref'd: the input keeps a process alive only while a read() waits.
    this.scanTimer = setTimeout(() => {
      this.scanTimer = undefined;
      this.scanDueAt = Infinity;
      this.runScan();
    }, delayMs).unref();
  }

  private dirChanged(dir: string, event: 'rename' | 'change', name: string | null): void {
    if (event === 'rename') this.scheduleScan(SCAN_SOON_MS);
    const t = name ? this.followed.byPath.get(path.join(dir, name)) : undefined;
    if (t) t.changed = true;
    this.wakeup.wake();
  }
}
