// The files being followed: one Tailer per file (by dev+ino), which path names which, and how a file's run ends.
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isGone } from './fs-errors.js';
import { devInoKey, fingerprintMatches, headMatches, newFileId, readFingerprint, type Fingerprint } from './identity.js';
import { openLogFile, type LogFile } from './log-file.js';
import type { InputEvents } from './input-events.js';
import { Tailer, type TailerInit } from './tailer.js';

/** A plain file that was read to its end: its directory, content fingerprint and the offset it ended at. */
interface FinishedPlain extends Fingerprint {
  dir: string;
  offset: number;
}

/** Plain files remembered for compressed copies: logrotate compresses a file within one rotation of finishing it. */
const MAX_FINISHED_PLAIN = 4096;

export type NewTailer = Pick<TailerInit, 'fileId' | 'path' | 'tagPath' | 'offset' | 'input' | 'attached' | 'piecesBefore'>;

export class FileRegistry {
  /** Every tailer not yet forgotten, in opening order (a finished one stays until its runs are taken). */
  tailers: Tailer[] = [];
  /** Open files by dev+ino: a file is followed once, whatever names it has. */
  readonly byDevIno = new Map<string, Tailer>();
  /** Files still reachable at the path they are followed under. */
  readonly byPath = new Map<string, Tailer>();
  /** Tailers holding an open handle, least recently active first (a Map keeps insertion order). */
  private readonly open = new Map<Tailer, LogFile>();
  /** Plain files finished lately: where a compressed copy of one (app.log.1 -> app.log.1.gz) starts reading. */
  private readonly finishedPlain: FinishedPlain[] = [];
  /** Per directory, its regular files by dev+ino as listed once during the current scan (see relocate). */
  private dirIndex = new Map<string, Map<string, string>>();

  constructor(
    /** Open handles allowed at once; detached files (which cannot be reopened by name) may go past it. */
    private readonly maxOpenFiles: number,
    private readonly hostname: string,
    private readonly now: () => number,
    /** Where a file's runs go (the input's run queue) and where their buffers come from. */
    private readonly runs: Pick<TailerInit, 'push' | 'allocate'>,
    private readonly events: InputEvents,
    /** Something changed that a waiting read() should look at. */
    private readonly wake: () => void,
  ) {}

  create(fh: LogFile, st: Stats, fp: Fingerprint, o: NewTailer): Tailer {
    const t = new Tailer({
      fh,
      ...o,
      identity: { dev: st.dev, ino: st.ino, ...fp },
      hostname: this.hostname,
      now: this.now,
      push: this.runs.push,
      allocate: this.runs.allocate,
    });
    this.open.set(t, fh);
    this.tailers.push(t);
    this.byDevIno.set(devInoKey(st), t);
    this.wake();
    return t;
  }

  /** A detached file stayed quiet long enough: emit what it holds and close it. */
  async finish(t: Tailer): Promise<void> {
    t.finish();
    if (this.byDevIno.get(devInoKey(t.identity)) === t) this.byDevIno.delete(devInoKey(t.identity));
    if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
    await this.closeHandle(t);
    if (!t.gzip) {
      const { fingerprint, fingerprintBytes } = t.identity;
      this.finishedPlain.push({ dir: path.dirname(t.path), fingerprint, fingerprintBytes, offset: t.readOffset });
      if (this.finishedPlain.length > MAX_FINISHED_PLAIN) this.finishedPlain.shift();
    }
    this.events.emit({ type: 'finished', path: t.path, fileId: t.fileId, message: `closed at offset ${t.readOffset}` });
    if (t.queued === 0) this.forgetDrained();
  }

  /** Truncated or rewritten in place: what was read is done; the same handle continues from 0 as a new file id. */
  async restartReplaced(old: Tailer): Promise<void> {
    old.finish();
    const fh = old.open();
    this.open.delete(old);
    const st = await fh.stat();
    const fp = await readFingerprint(fh);
    const next = this.create(fh, st, fp, {
      fileId: newFileId(st),
      path: old.path,
      tagPath: old.tagPath,
      offset: 0,
      input: old.input,
      attached: old.attached,
    });
    const key = devInoKey(st);
    if (this.byDevIno.get(key) === old) this.byDevIno.set(key, next);
    if (this.byPath.get(old.path) === old) this.byPath.set(old.path, next);
    this.events.emit({
      type: 'truncated',
      path: old.path,
      fileId: next.fileId,
      message: `${old.replacedBecause}; reading from 0 (previous file id ${old.fileId})`,
    });
    if (old.queued === 0) this.forgetDrained();
  }

  /** A followed file turned up under another matched name. */
  async moved(t: Tailer, p: string): Promise<void> {
    if (t.attached) {
      const still = await stat(t.path).catch(() => undefined);
      if (still && devInoKey(still) === devInoKey(t.identity)) return; // a second name (link) for the same file
      if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
      this.events.emit({ type: 'rotated', path: t.path, fileId: t.fileId, message: `renamed to ${p}` });
    }
    const previous = this.byPath.get(p);
    if (previous && previous !== t) await this.detach(previous);
    t.path = p;
    t.attached = true;
    this.byPath.set(p, t);
  }

  /** The path no longer names this file: keep reading the open handle to EOF, then close it once quiet. */
  async detach(t: Tailer): Promise<void> {
    if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
    t.attached = false;
    t.quietSince = performance.now();
    if (!t.fh && !(await this.relocate(t))) {
      // Closed and gone: whatever it held past our offset went with it (it was idle when closed).
      this.events.emit({ type: 'removed', path: t.path, fileId: t.fileId, message: `gone while closed; finished at offset ${t.readOffset}` });
      await this.finish(t);
      return;
    }
    const links = await t.open().stat().then((s) => s.nlink, () => 1);
    this.events.emit({ type: links === 0 ? 'removed' : 'rotated', path: t.path, fileId: t.fileId, message: 'finishing the open file' });
    this.wake();
  }

  /** Drops finished tailers whose runs have all been taken. */
  forgetDrained(): void {
    this.tailers = this.tailers.filter((t) => !(t.finished && t.queued === 0));
  }

  // ---- bounding open handles

  get openCount(): number {
    return this.open.size;
  }

  /** The file was active: it is the last to be closed to make room. */
  touch(t: Tailer): void {
    const fh = this.open.get(t);
    if (fh === undefined) return;
    this.open.delete(t);
    this.open.set(t, fh);
  }

  /** Closes least recently active files until one more handle fits under maxOpenFiles. */
  async makeRoom(): Promise<void> {
    if (this.open.size < this.maxOpenFiles) return;
    for (const t of this.open.keys()) {
      if (this.open.size < this.maxOpenFiles) return;
      // A detached file can no longer be reopened by its name; it closes by itself once quiet.
      if (t.attached && !t.finished) await this.suspend(t);
    }
  }

  /** Closes the files that have been idle at EOF for their input's closeInactive; they reopen when they change. */
  async closeInactive(mono: number): Promise<void> {
    for (const t of [...this.open.keys()]) {
      if (!t.attached || t.finished || t.idleSince === undefined || t.changed) continue;
      // A pending multiline event or partial line needs no handle, but its flush deadline needs the tailer polled.
      if (mono - t.idleSince >= t.input.closeInactiveMs && t.deadline(Infinity) === undefined) await this.suspend(t);
    }
  }

  /** Closes the handle of a followed file; it stays followed and is reopened when it changes. */
  async suspend(t: Tailer): Promise<void> {
    const fh = t.release();
    if (!fh) return;
    this.open.delete(t);
    await fh.close().catch(() => {});
  }

  /**
   * Reopens a closed file at its path. 'moved': the path names another file now (a scan sorts out where this one
   * went); 'replaced': same inode, other first bytes (rewritten in place), reopened for restartReplaced.
   */
  async reopen(t: Tailer): Promise<'ok' | 'moved' | 'replaced'> {
    await this.makeRoom();
    let fh: LogFile;
    try {
      fh = await openLogFile(t.path);
    } catch (err) {
      if (isGone(err)) return 'moved';
      throw err;
    }
    try {
      const st = await fh.stat();
      if (devInoKey(st) !== devInoKey(t.identity)) {
        await fh.close();
        return 'moved';
      }
      const same = await fingerprintMatches(fh, t.identity);
      t.reattach(fh, st);
      this.open.set(t, fh);
      if (!same) {
        t.replacedBecause = 'first bytes changed while closed';
        return 'replaced';
      }
      return 'ok';
    } catch (err) {
      if (t.fh !== fh) await fh.close().catch(() => {});
      throw err;
    }
  }

  /**
   * A closed file whose path no longer names it: looks for it in its directory by dev+ino and fingerprint (a rename
   * rotation to a name no glob matches) and opens it there. False when it is not found (deleted).
   */
  private async relocate(t: Tailer): Promise<boolean> {
    const dir = path.dirname(t.path);
    const p = (await this.listDir(dir)).get(devInoKey(t.identity));
    if (p !== undefined) {
      await this.makeRoom();
      const fh = await openLogFile(p).catch(() => undefined);
      if (!fh) return false;
      const opened = await fh.stat().catch(() => undefined);
      if (opened && devInoKey(opened) === devInoKey(t.identity) && (await fingerprintMatches(fh, t.identity).catch(() => false))) {
        t.path = p;
        t.reattach(fh, opened);
        this.open.set(t, fh);
        return true;
      }
      await fh.close().catch(() => {});
    }
    return false;
  }

  /** A new scan: directory listings taken by the last one may be out of date. */
  beginScan(): void {
    this.dirIndex.clear();
  }

  /** The regular files of `dir` by dev+ino, listed once per scan: many closed files may vanish from one directory. */
  private async listDir(dir: string): Promise<Map<string, string>> {
    let index = this.dirIndex.get(dir);
    if (index) return index;
    index = new Map();
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const p = path.join(dir, name);
      const st = await stat(p).catch(() => undefined);
      if (st?.isFile()) index.set(devInoKey(st), p);
    }
    this.dirIndex.set(dir, index);
    return index;
  }

  /**
   * Where a new gzip file in `dir` whose decompressed content starts with `head` stands against the plain files:
   * 'wait' while a plain file with that content is still followed (it is read to its end first, from its own handle),
   * the offset a finished one ended at (the compressed copy goes on from there), or undefined for an unrelated file.
   */
  compressedCopyStart(dir: string, head: Buffer): 'wait' | number | undefined {
    for (const t of this.tailers) {
      if (!t.gzip && !t.finished && path.dirname(t.path) === dir && headMatches(head, t.identity)) return 'wait';
    }
    for (let i = this.finishedPlain.length - 1; i >= 0; i--) {
      const f = this.finishedPlain[i];
      if (f.dir === dir && headMatches(head, f)) return f.offset;
    }
    return undefined;
  }

  private async closeHandle(t: Tailer): Promise<void> {
    const fh = t.fh;
    this.open.delete(t);
    if (fh) await fh.close().catch(() => {});
  }

  async closeAll(): Promise<void> {
    for (const fh of this.open.values()) await fh.close().catch(() => {});
    this.open.clear();
  }
}
