// Follows the files matched by the configured globs and hands out their lines as encoded runs, at the consumer's pace.
//
// Guarantees: the logs of one file come out in file order with growing offsets; a line is neither lost nor
// repeated across rename rotation, deletion and restarts from acknowledged checkpoints. Known limit: with
// copytruncate rotation, lines the application writes between the copy and the truncate that lie beyond our offset
// are lost by the rotation itself (they are in neither file once truncated); and a glob that also matches the copies
// reads them as new files.
import type { Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CheckpointMatcher } from './checkpoint-match.js';
import { DirWatcher } from './dir-watcher.js';
import { devInoKey, newFileId, readFingerprint, type Fingerprint } from './identity.js';
import { OldFiles } from './ignore-older.js';
import { compileInput, type CompiledInput } from './input-config.js';
import { piecesBefore, Tailer, type TailerInit } from './tailer.js';
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
}

export const DEFAULT_READ_CHUNK_BYTES = 512 * 1024;
export const DEFAULT_ROTATE_WAIT_MS = 5000;
export const DEFAULT_POLL_INTERVAL_MS = 250;
/** Run buffers kept for reuse between reads. */
const MAX_FREE_RUN_BUFFERS = 4;
/** Delay before a rescan prompted by a directory change, so a burst of changes costs one scan. */
const SCAN_SOON_MS = 20;
/** stat() calls in flight during a scan: one at a time pays a thread-pool round trip each (2x the CPU at 1000 files). */
const STAT_CONCURRENCY = 32;

async function mapConcurrently<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? 'EIO';
}

function describe(err: unknown): string {
  const code = errorCode(err);
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ELOOP: 'too many symbolic links',
    EMFILE: 'too many open files',
    ENFILE: 'too many open files in system',
    EIO: 'I/O error',
  };
  return reasons[code] ? `${reasons[code]} (${code})` : code;
}

/** The first `n` logs of `run` and the rest, as views of its arrays. */
function cutRun(run: InputRun, n: number): [InputRun, InputRun] {
  const at = run.ends[n - 1];
  const first: InputRun = {
    ...run,
    bytes: run.bytes.subarray(0, at),
    ends: run.ends.subarray(0, n),
    offsets: run.offsets.subarray(0, n),
    count: n,
  };
  const restEnds = run.ends.slice(n);
  for (let i = 0; i < restEnds.length; i++) restEnds[i] -= at;
  const rest: InputRun = {
    ...run,
    bytes: run.bytes.subarray(at),
    ends: restEnds,
    offsets: run.offsets.subarray(n),
    count: run.count - n,
    startOffset: run.offsets[n - 1],
  };
  return [first, rest];
}

export class FileInput {
  private readonly inputs: CompiledInput[];
  private readonly hostname: string;
  private readonly chunkBytes: number;
  /** One read buffer for all files (reads run one at a time): touched memory is reused instead of freshly faulted in. */
  private readonly readBuffer: Buffer;
  private readonly now: () => number;
  private readonly onEvent: (e: InputEvent) => void;
  private readonly rotateWaitMs: number;
  private readonly pollIntervalMs: number;
  private readonly scanIntervalMs: number;

  /** Every tailer not yet forgotten, in opening order (a finished one stays until its runs are taken). */
  private tailers: Tailer[] = [];
  /** Open files by dev+ino: a file is followed once, whatever names it has. */
  private readonly byDevIno = new Map<string, Tailer>();
  /** Files still reachable at the path they are followed under. */
  private readonly byPath = new Map<string, Tailer>();
  private readonly resume: CheckpointMatcher;
  private readonly oldFiles = new OldFiles();
  private readonly openHandles = new Set<FileHandle>();
  private firstScanDone = false;

  private queue: InputRun[] = [];
  /** Buffers of the runs the last read() handed out, and buffers free for new runs. */
  private lent: ArrayBufferLike[] = [];
  private readonly free: Buffer[] = [];
  private readonly runBufferBytes: number;
  private owners: Tailer[] = [];
  private head = 0;
  /** Logs in queue[head…]. */
  private queuedLogs = 0;
  private cursor = 0;

  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly wakeup = new Wakeup();
  private scanTimer: NodeJS.Timeout | undefined;
  private scanDueAt = Infinity;
  private readonly watcher = new DirWatcher((dir, event, name) => this.dirChanged(dir, event, name));
  private readonly reported = new Map<string, string>();

  constructor(inputs: InputConfig[], o: FileInputOptions) {
    this.hostname = o.hostname ?? os.hostname();
    this.inputs = inputs.map((cfg, i) => compileInput(cfg, i, this.hostname));
    this.chunkBytes = Math.max(4096, Math.floor(o.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES));
    // Room for the chunk plus a typical held partial line in front of it.
    this.readBuffer = Buffer.allocUnsafeSlow(this.chunkBytes + 16 * 1024);
    // A chunk's logs take ~15 % more than its lines (protobuf framing); short lines take more and grow the buffer.
    this.runBufferBytes = Math.ceil(this.chunkBytes * 1.25) + 64 * 1024;
    this.now = o.now ?? Date.now;
    this.onEvent = o.onEvent ?? (() => {});
    this.rotateWaitMs = o.rotateWaitMs ?? DEFAULT_ROTATE_WAIT_MS;
    this.pollIntervalMs = o.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.scanIntervalMs = Math.min(...this.inputs.map((i) => i.scanIntervalMs), 60_000);
    this.resume = new CheckpointMatcher(o.checkpoints.values());
    this.runScan();
  }

  /**
   * Pull-based: the consumer's pace is the backpressure. Resolves once logs are available with runs holding at most
   * maxLogs logs in all (at least one; a run is cut when needed). Resolves [] only after close().
   * The runs' memory is reused once read() is called again: a consumer copies what it keeps.
   */
  async read(maxLogs: number): Promise<InputRun[]> {
    const max = Math.max(1, Math.floor(maxLogs));
    this.reclaimLent();
    for (;;) {
      if (this.closed) return [];
      if (this.head < this.queue.length) return this.take(max);
      await this.exclusive(() => this.fill(max));
      if (this.closed) return [];
      if (this.head < this.queue.length) return this.take(max);
      await this.wakeup.wait(this.waitMs());
    }
  }

  /**
   * Files currently known, with identity and offset = the offset after the last log read() returned (startOffset
   * before any). A finished file stays listed until all its logs have been returned, then drops out.
   */
  files(): InputFile[] {
    return this.tailers.map((t) => t.describe());
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
      for (const fh of this.openHandles) await fh.close().catch(() => {});
      this.openHandles.clear();
      this.queue = [];
      this.owners = [];
      this.head = 0;
      this.queuedLogs = 0;
    });
    return this.closing;
  }

  // ---- handing out runs

  private take(max: number): InputRun[] {
    const out: InputRun[] = [];
    let logs = 0;
    let drainedFinished = false;
    while (this.head < this.queue.length && logs < max) {
      let run = this.queue[this.head];
      const t = this.owners[this.head];
      if (logs + run.count > max) {
        const [first, rest] = cutRun(run, max - logs);
        this.queue[this.head] = rest;
        run = first;
      } else {
        this.head++;
        this.lent.push(run.bytes.buffer);
        t.queued--;
        if (t.finished && t.queued === 0) drainedFinished = true;
      }
      t.takenOffset = run.offsets[run.count - 1];
      logs += run.count;
      out.push(run);
    }
    this.queuedLogs -= logs;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.owners = [];
      this.head = 0;
    }
    if (drainedFinished) this.forgetDrained();
    return out;
  }

  // Run buffers are recycled rather than left to the garbage collector: at full speed the input would otherwise
  // allocate its whole throughput in fresh buffers, and that churn is what drives V8 into full collections.
  private readonly allocateRun = (size: number): Buffer => {
    for (let i = this.free.length - 1; i >= 0; i--) {
      if (this.free[i].length >= size) return this.free.splice(i, 1)[0];
    }
    return Buffer.allocUnsafeSlow(Math.max(size, this.runBufferBytes));
  };

  private reclaimLent(): void {
    for (const buffer of this.lent) {
      if (this.free.length < MAX_FREE_RUN_BUFFERS && buffer.byteLength >= this.runBufferBytes) this.free.push(Buffer.from(buffer));
    }
    this.lent = [];
  }

  private readonly pushRun = (run: InputRun, from: Tailer): void => {
    this.queue.push(run);
    this.owners.push(from);
    this.queuedLogs += run.count;
    from.queued++;
    from.input.rate?.charge(run.count, run.offsets[run.count - 1] - run.startOffset);
  };

  private forgetDrained(): void {
    this.tailers = this.tailers.filter((t) => !(t.finished && t.queued === 0));
  }

  /** Reads one chunk from each file in turn until `max` logs are ready, or every file is at EOF. */
  private async fill(max: number): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const live = this.tailers.filter((t) => !t.finished);
      const n = live.length;
      if (n === 0) return;
      let progressed = false;
      for (let k = 0; k < n && !this.closed; k++) {
        const t = live[(this.cursor + k) % n];
        if (t.finished || !this.worthChecking(t, performance.now())) continue;
        const chunkBytes = t.input.rate ? t.input.rate.readBytes(this.chunkBytes) : this.chunkBytes;
        if (chunkBytes === 0) continue; // over its input's rateLimit: waitMs() says when to come back
        try {
          const outcome = await t.readChunk(chunkBytes, this.readBuffer);
          if (outcome === 'data') {
            progressed = true;
            this.clearReport(t.path);
          } else if (outcome === 'replaced') {
            await this.restartReplaced(t);
            progressed = true;
          } else {
            await this.settleAtEof(t);
          }
        } catch (err) {
          this.report(t.path, `cannot read ${t.path}: ${describe(err)}`);
          t.retryAt = performance.now() + this.scanIntervalMs;
        }
        if (this.queuedLogs >= max) {
          this.cursor = (this.cursor + k + 1) % n;
          return;
        }
      }
      this.cursor = (this.cursor + 1) % n;
      if (this.head < this.queue.length || !progressed) return;
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

  private async settleAtEof(t: Tailer): Promise<void> {
    const mono = performance.now();
    t.flushIfQuiet(mono);
    if (!t.attached && mono - t.quietSince >= this.rotateWaitMs) await this.finishTailer(t);
  }

  private async finishTailer(t: Tailer): Promise<void> {
    t.finish();
    if (this.byDevIno.get(devInoKey(t.identity)) === t) this.byDevIno.delete(devInoKey(t.identity));
    if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
    this.openHandles.delete(t.fh);
    await t.fh.close().catch(() => {});
    this.emit({ type: 'finished', path: t.path, fileId: t.fileId, message: `closed at offset ${t.readOffset}` });
    if (t.queued === 0) this.forgetDrained();
  }

  /** Truncated or rewritten in place: what was read is done; the same handle continues from 0 as a new file id. */
  private async restartReplaced(old: Tailer): Promise<void> {
    old.finish();
    const stat = await old.fh.stat();
    const fp = await readFingerprint(old.fh);
    const next = this.createTailer(old.fh, stat, fp, {
      fileId: newFileId(stat),
      path: old.path,
      tagPath: old.tagPath,
      offset: 0,
      input: old.input,
      attached: old.attached,
    });
    const key = devInoKey(stat);
    if (this.byDevIno.get(key) === old) this.byDevIno.set(key, next);
    if (this.byPath.get(old.path) === old) this.byPath.set(old.path, next);
    this.emit({
      type: 'truncated',
      path: old.path,
      fileId: next.fileId,
      message: `${old.replacedBecause}; reading from 0 (previous file id ${old.fileId})`,
    });
    if (old.queued === 0) this.forgetDrained();
  }

  // ---- waiting

  private waitMs(): number {
    const mono = performance.now();
    let wait = this.pollIntervalMs;
    for (const t of this.tailers) {
      if (t.finished) continue;
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
    this.exclusive(() => this.scan())
      .catch((err) => this.report('<scan>', `scan failed: ${String((err as Error)?.message ?? err).split('\n')[0]}`))
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

  private async scan(): Promise<void> {
    if (this.closed) return;
    const candidates: { p: string; input: CompiledInput }[] = [];
    const seen = new Set<string>();
    const dirs = new Set<string>();
    for (const input of this.inputs) {
      const walk = await input.matcher.find();
      for (const e of walk.errors) this.report(e.path, `cannot list ${e.path}: ${describe({ code: e.code })}`);
      for (const d of walk.dirs) dirs.add(d);
      for (const p of walk.files) {
        if (seen.has(p)) continue;
        seen.add(p);
        candidates.push({ p, input });
      }
    }
    const stats = await mapConcurrently(candidates, STAT_CONCURRENCY, (c) => this.statMatched(c.p));
    const found = candidates.flatMap((c, i) => (stats[i] ? [{ ...c, st: stats[i] }] : []));
    // Renames first, so a file that moved to another matched name is not mistaken for one that went away.
    for (const { p, st } of found) {
      const known = this.byDevIno.get(devInoKey(st));
      if (known && known.path !== p && !this.closed) await this.moved(known, p);
    }
    for (const { p, input, st } of found) {
      if (this.closed) return;
      const known = this.byDevIno.get(devInoKey(st));
      const atPath = this.byPath.get(p);
      if (atPath && atPath !== known) await this.detach(atPath);
      if (!known) {
        // ignoreOlder: a file with a checkpoint is resumed whatever its age, so nothing read before is skipped.
        if (!this.resume.expects(st) && (await this.oldFiles.passOver(p, st, input.ignoreOlderMs))) continue;
        await this.openNew(p, input);
      } else if (known.path === p && known.attached && !known.finished) {
        if (st.size !== known.readOffset) known.changed = true; // the fallback when no watch event came
        await this.verify(known, st);
      }
    }
    for (const t of [...this.byPath.values()]) {
      if (!seen.has(t.path) && !this.closed) await this.checkStillThere(t);
    }
    if (!this.firstScanDone) {
      this.firstScanDone = true;
      await this.finishRotatedAway();
      this.resume.endStartup();
    }
    this.watcher.update(dirs);
  }

  /** stat() of a matched path: undefined when it is gone or not a regular file (errors are reported). */
  private async statMatched(p: string): Promise<Stats | undefined> {
    try {
      const st = await stat(p);
      if (st.isFile()) return st;
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.report(p, `cannot stat ${p}: ${describe(err)}`);
    }
    return undefined;
  }

  private async verify(t: Tailer, st: Stats): Promise<void> {
    try {
      if ((await t.verify(st)) === 'replaced') await this.restartReplaced(t);
      this.clearReport(t.path);
    } catch (err) {
      this.report(t.path, `cannot read ${t.path}: ${describe(err)}`);
    }
  }

  /** A followed file turned up under another matched name. */
  private async moved(t: Tailer, p: string): Promise<void> {
    if (t.attached) {
      const still = await stat(t.path).catch(() => undefined);
      if (still && devInoKey(still) === devInoKey(t.identity)) return; // a second name (link) for the same file
      if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
      this.emit({ type: 'rotated', path: t.path, fileId: t.fileId, message: `renamed to ${p}` });
    }
    const previous = this.byPath.get(p);
    if (previous && previous !== t) await this.detach(previous);
    t.path = p;
    t.attached = true;
    this.byPath.set(p, t);
  }

  /** A followed path that the last walk did not return: the file was renamed away, replaced or deleted. */
  private async checkStillThere(t: Tailer): Promise<void> {
    try {
      const st = await stat(t.path);
      if (devInoKey(st) !== devInoKey(t.identity)) await this.detach(t);
      else if (st.size !== t.readOffset) t.changed = true;
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') await this.detach(t);
      else this.report(t.path, `cannot stat ${t.path}: ${describe(err)}`);
    }
  }

  /** The path no longer names this file: keep reading the open handle to EOF, then close it once quiet. */
  private async detach(t: Tailer): Promise<void> {
    if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
    t.attached = false;
    t.quietSince = performance.now();
    const links = await t.fh.stat().then((s) => s.nlink, () => 1);
    this.emit({ type: links === 0 ? 'removed' : 'rotated', path: t.path, fileId: t.fileId, message: 'finishing the open file' });
    this.wakeup.wake();
  }

  private async openNew(p: string, input: CompiledInput): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(p, 'r');
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'ENOENT') this.report(p, `cannot open ${p}: ${describe(err)}`);
      return;
    }
    try {
      const st = await fh.stat();
      // Between the walk and open() the name may have moved on to another file; trust the handle.
      if (!st.isFile() || this.byDevIno.has(devInoKey(st))) {
        await fh.close();
        return;
      }
      const fp = await readFingerprint(fh);
      const start = await this.resume.startPoint(p, fh, st, input.startAt);
      if (start.truncated) {
        const cp = start.truncated;
        this.emit({ type: 'truncated', path: p, fileId: cp.fileId, message: `size ${st.size} < checkpoint ${cp.offset}` });
      }
      const since = start.resumed ? undefined : await this.oldFiles.startOffset(fh, st);
      if (since !== undefined) Object.assign(start, { offset: since, note: `written again after ignoreOlder; reading from offset ${since}` });
      const pieces = start.resumed ? await piecesBefore(fh, start.offset, input.maxLineBytes) : 0;
      const t = this.createTailer(fh, st, fp, {
        fileId: start.fileId,
        path: p,
        tagPath: p,
        offset: start.offset,
        input,
        attached: true,
        piecesBefore: pieces,
      });
      this.byPath.set(p, t);
      this.clearReport(p);
      this.emit({ type: 'opened', path: p, fileId: t.fileId, message: start.note });
    } catch (err) {
      this.openHandles.delete(fh);
      await fh.close().catch(() => {});
      this.report(p, `cannot read ${p}: ${describe(err)}`);
    }
  }

  private createTailer(
    fh: FileHandle,
    st: Stats,
    fp: Fingerprint,
    o: Pick<TailerInit, 'fileId' | 'path' | 'tagPath' | 'offset' | 'input' | 'attached' | 'piecesBefore'>,
  ): Tailer {
    const t = new Tailer({
      fh,
      fileId: o.fileId,
      identity: { dev: st.dev, ino: st.ino, ...fp },
      path: o.path,
      tagPath: o.tagPath,
      offset: o.offset,
      input: o.input,
      hostname: this.hostname,
      attached: o.attached,
      piecesBefore: o.piecesBefore,
      now: this.now,
      push: this.pushRun,
      allocate: this.allocateRun,
    });
    this.openHandles.add(fh);
    this.tailers.push(t);
    this.byDevIno.set(devInoKey(st), t);
    this.wakeup.wake();
    return t;
  }

  /** After the startup scan: finish checkpointed files that were renamed away while we were stopped. */
  private async finishRotatedAway(): Promise<void> {
    const found = await this.resume.findRotatedAway(
      (key) => this.byDevIno.has(key),
      (p, err) => this.report(p, `cannot read ${p}: ${describe(err)}`),
    );
    for (const { path: p, fh, stat: st, checkpoint: cp } of found) {
      const input = this.inputs.find((i) => i.matcher.matches(cp.path));
      if (!input || this.closed) {
        await fh.close();
        continue;
      }
      try {
        const fp = await readFingerprint(fh);
        const pieces = await piecesBefore(fh, cp.offset, input.maxLineBytes);
        const t = this.createTailer(fh, st, fp, {
          fileId: cp.fileId,
          path: p,
          tagPath: cp.path,
          offset: cp.offset,
          input,
          attached: false,
          piecesBefore: pieces,
        });
        const message = `rotated away from ${cp.path} while stopped; finishing from offset ${cp.offset}`;
        this.emit({ type: 'opened', path: p, fileId: t.fileId, message });
      } catch (err) {
        await fh.close().catch(() => {});
        this.report(p, `cannot read ${p}: ${describe(err)}`);
      }
    }
  }

  private dirChanged(dir: string, event: 'rename' | 'change', name: string | null): void {
    if (event === 'rename') this.scheduleScan(SCAN_SOON_MS);
    const t = name ? this.byPath.get(path.join(dir, name)) : undefined;
    if (t) t.changed = true;
    this.wakeup.wake();
  }

  // ---- events

  private emit(e: InputEvent): void {
    try {
      this.onEvent(e);
    } catch {
      // A failing observer must not stop the input.
    }
  }

  /** Errors are reported once per path until the path works again, not on every scan. */
  private report(p: string, message: string): void {
    if (this.reported.get(p) === message) return;
    this.reported.set(p, message);
    this.emit({ type: 'error', path: p, message });
  }

  private clearReport(p: string): void {
    this.reported.delete(p);
  }
}
