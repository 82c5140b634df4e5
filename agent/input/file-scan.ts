// Finding files: walks the globs, opens new matches where their checkpoint says, and notices renames, replacements
// and deletions of the files followed.
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { CheckpointMatcher } from './checkpoint-match.js';
import type { FileRegistry } from './file-registry.js';
import { describeError, errorCode, isGone } from './fs-errors.js';
import { GZIP_SIZE_UNKNOWN, GzipFile } from './gzip-file.js';
import { devInoKey, FINGERPRINT_MAX_BYTES, newFileId, readFingerprint, readHead } from './identity.js';
import { isGzipPath, openLogFile, type LogFile } from './log-file.js';
import type { CompiledInput } from './input-config.js';
import type { InputEvents } from './input-events.js';
import { OldFiles } from './ignore-older.js';
import { piecesBefore, type Tailer } from './tailer.js';
import type { StartPoint } from './checkpoint-match.js';

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

export interface ScanResult {
  /** Directories looked in (to watch for changes). */
  dirs: Set<string>;
  /** Paths the globs matched. */
  seen: Set<string>;
  /** The matched regular files, with the input that owns each. */
  found: { p: string; input: CompiledInput; st: Stats }[];
}

export class FileScanner {
  private firstScanDone = false;
  private readonly oldFiles = new OldFiles();

  constructor(
    private readonly inputs: CompiledInput[],
    private readonly files: FileRegistry,
    private readonly resume: CheckpointMatcher,
    private readonly events: InputEvents,
    private readonly isClosed: () => boolean,
  ) {}

  /**
   * Walks the globs and stats what they match. Changes nothing, so it runs without the input's lock: with thousands
   * of files the stats take a while, and reading goes on meanwhile (apply() copes with a file system that moved on).
   */
  async look(): Promise<ScanResult> {
    const dirs = new Set<string>();
    if (this.isClosed()) return { dirs, seen: new Set(), found: [] };
    const candidates: { p: string; input: CompiledInput }[] = [];
    const seen = new Set<string>();
    for (const input of this.inputs) {
      const walk = await input.matcher.find();
      for (const e of walk.errors) this.events.report(e.path, `cannot list ${e.path}: ${describeError({ code: e.code })}`);
      for (const d of walk.dirs) dirs.add(d);
      for (const p of walk.files) {
        if (seen.has(p)) continue;
        seen.add(p);
        candidates.push({ p, input });
      }
    }
    const stats = await mapConcurrently(candidates, STAT_CONCURRENCY, (c) => this.statMatched(c.p));
    const found = candidates.flatMap((c, i) => (stats[i] ? [{ ...c, st: stats[i] }] : []));
    // Gzip files last: one compressed from a plain file found in the same scan waits for that file (compressedStart).
    found.sort((a, b) => Number(isGzipPath(a.p)) - Number(isGzipPath(b.p)));
    return { dirs, seen, found };
  }

  /** Acts on what look() found: renames, new files, replaced and vanished ones. */
  async apply({ seen, found }: ScanResult): Promise<void> {
    const { byDevIno, byPath } = this.files;
    this.files.beginScan();
    // Renames first, so a file that moved to another matched name is not mistaken for one that went away.
    for (const { p, st } of found) {
      const known = byDevIno.get(devInoKey(st));
      if (known && known.path !== p && !this.isClosed()) await this.files.moved(known, p);
    }
    for (const { p, input, st } of found) {
      if (this.isClosed()) return;
      const known = byDevIno.get(devInoKey(st));
      const atPath = byPath.get(p);
      if (atPath && atPath !== known) await this.files.detach(atPath);
      if (!known) {
        // ignoreOlder: a file with a checkpoint is resumed whatever its age, so nothing read before is skipped; that
        // includes a .gz that may be a checkpointed file compressed while we were stopped (gzip keeps the mtime).
        const checkpointed = this.resume.expects(st) || (isGzipPath(p) && this.resume.expectsCompressedIn(path.dirname(p)));
        if (!checkpointed && (await this.oldFiles.passOver(p, st, input.ignoreOlderMs))) continue;
        await this.openNew(p, input);
      } else if (known.path === p && known.attached && !known.finished) {
        if (known.differsFrom(st)) known.changed = true; // the fallback when no watch event came
        await this.verify(known, st);
      }
    }
    for (const t of [...byPath.values()]) {
      if (!seen.has(t.path) && !this.isClosed()) await this.checkStillThere(t);
    }
    if (!this.firstScanDone) {
      this.firstScanDone = true;
      await this.finishRotatedAway();
      this.resume.endStartup();
    }
  }

  /** stat() of a matched path: undefined when it is gone or not a regular file (errors are reported). */
  private async statMatched(p: string): Promise<Stats | undefined> {
    try {
      const st = await stat(p);
      if (st.isFile()) return st;
    } catch (err) {
      if (!isGone(err)) this.events.report(p, `cannot stat ${p}: ${describeError(err)}`);
    }
    return undefined;
  }

  private async verify(t: Tailer, st: Stats): Promise<void> {
    try {
      if ((await t.verify(st)) === 'replaced') await this.files.restartReplaced(t);
      this.events.clearReport(t.path);
    } catch (err) {
      this.events.report(t.path, `cannot read ${t.path}: ${describeError(err)}`);
    }
  }

  /** A followed path that the last walk did not return: the file was renamed away, replaced or deleted. */
  private async checkStillThere(t: Tailer): Promise<void> {
    try {
      const st = await stat(t.path);
      if (devInoKey(st) !== devInoKey(t.identity)) await this.files.detach(t);
      else if (t.differsFrom(st)) t.changed = true;
    } catch (err) {
      if (isGone(err)) await this.files.detach(t);
      else this.events.report(t.path, `cannot stat ${t.path}: ${describeError(err)}`);
    }
  }

  private async openNew(p: string, input: CompiledInput): Promise<void> {
    await this.files.makeRoom();
    let fh: LogFile;
    try {
      fh = await openLogFile(p);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') this.events.report(p, `cannot open ${p}: ${describeError(err)}`);
      return;
    }
    try {
      const st = await fh.stat();
      // Between the walk and open() the name may have moved on to another file; trust the handle.
      if (!st.isFile() || this.files.byDevIno.has(devInoKey(st))) {
        await fh.close();
        return;
      }
      const fp = await readFingerprint(fh);
      let start = await this.resume.startPoint(p, fh, st, input.startAt);
      if (fh instanceof GzipFile) {
        const gz = await this.compressedStart(p, fh, st, start);
        if (gz === 'wait') {
          await fh.close();
          return;
        }
        start = gz;
      }
      if (start.truncated) {
        const cp = start.truncated;
        this.events.emit({ type: 'truncated', path: p, fileId: cp.fileId, message: `size ${st.size} < checkpoint ${cp.offset}` });
      }
      // A gzip file is not written again: one passed over for its age stays where its start point says.
      const since = start.resumed || fh instanceof GzipFile ? undefined : await this.oldFiles.startOffset(fh, st);
      if (since !== undefined) start = { ...start, offset: since, note: `written again after ignoreOlder; reading from offset ${since}` };
      const pieces = start.resumed ? await piecesBefore(fh, start.offset, input.maxLineBytes) : 0;
      const t = this.files.create(fh, st, fp, {
        fileId: start.fileId,
        path: p,
        tagPath: p,
        offset: start.offset,
        input,
        attached: true,
        piecesBefore: pieces,
      });
      this.files.byPath.set(p, t);
      this.events.clearReport(p);
      this.events.emit({ type: 'opened', path: p, fileId: t.fileId, message: start.note });
    } catch (err) {
      await fh.close().catch(() => {});
      this.events.report(p, `cannot read ${p}: ${describeError(err)}`);
    }
  }

  /**
   * Where a gzip file starts. Its own checkpoint wins. Otherwise, when its content starts like a plain file of the
   * same directory it is that file compressed (logrotate's compress: app.log.1 -> app.log.1.gz, then app.log.1 is
   * deleted): it waits while that file is still followed, then goes on from the offset that file ended at, so no line
   * is shipped twice. The match is by content fingerprint (the first 1 KiB, decompressed) and directory, as the inode
   * changes; two files of one directory that start with the same KiB are taken for one. Files from before the restart
   * are matched by their checkpoints the same way.
   */
  private async compressedStart(p: string, fh: GzipFile, st: Stats, start: StartPoint): Promise<StartPoint | 'wait'> {
    if (start.resumed) return start;
    const head = await readHead(fh, FINGERPRINT_MAX_BYTES);
    const dir = path.dirname(p);
    const origin = this.files.compressedCopyStart(dir, head);
    if (origin === 'wait') return 'wait';
    const from = origin ?? this.resume.compressedFrom(dir, head)?.offset;
    if (from !== undefined) {
      return { fileId: newFileId(st), offset: from, resumed: true, note: `compressed copy of a file read to offset ${from}; reading from there` };
    }
    // startAt end on a file found at startup: its decompressed length is known only by decompressing it.
    if (start.offset === GZIP_SIZE_UNKNOWN) return { ...start, offset: await fh.measure() };
    return start;
  }

  /** After the startup scan: finish checkpointed files that were renamed away while we were stopped. */
  private async finishRotatedAway(): Promise<void> {
    const found = await this.resume.findRotatedAway(
      (key) => this.files.byDevIno.has(key),
      (p, err) => this.events.report(p, `cannot read ${p}: ${describeError(err)}`),
    );
    for (const { path: p, fh, stat: st, checkpoint: cp } of found) {
      const input = this.inputs.find((i) => i.matcher.matches(cp.path));
      if (!input || this.isClosed()) {
        await fh.close();
        continue;
      }
      try {
        await this.files.makeRoom();
        const fp = await readFingerprint(fh);
        const pieces = await piecesBefore(fh, cp.offset, input.maxLineBytes);
        const t = this.files.create(fh, st, fp, {
          fileId: cp.fileId,
          path: p,
          tagPath: cp.path,
          offset: cp.offset,
          input,
          attached: false,
          piecesBefore: pieces,
        });
        const message = `rotated away from ${cp.path} while stopped; finishing from offset ${cp.offset}`;
        this.events.emit({ type: 'opened', path: p, fileId: t.fileId, message });
      } catch (err) {
        await fh.close().catch(() => {});
        this.events.report(p, `cannot read ${p}: ${describeError(err)}`);
      }
    }
  }
}
