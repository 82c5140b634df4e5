// The files being followed: one Tailer per file (by dev+ino), which path names which, and how a file's run ends.
import type { Stats } from 'node:fs';
import { stat, type FileHandle } from 'node:fs/promises';
import { devInoKey, newFileId, readFingerprint, type Fingerprint } from './identity.js';
import type { InputEvents } from './input-events.js';
import type { RunQueue } from './run-queue.js';
import { Tailer, type TailerInit } from './tailer.js';

export type NewTailer = Pick<TailerInit, 'fileId' | 'path' | 'tagPath' | 'offset' | 'input' | 'attached' | 'piecesBefore'>;

export class FileRegistry {
  /** Every tailer not yet forgotten, in opening order (a finished one stays until its runs are taken). */
  tailers: Tailer[] = [];
  /** Open files by dev+ino: a file is followed once, whatever names it has. */
  readonly byDevIno = new Map<string, Tailer>();
  /** Files still reachable at the path they are followed under. */
  readonly byPath = new Map<string, Tailer>();
  readonly openHandles = new Set<FileHandle>();

  constructor(
    private readonly hostname: string,
    private readonly now: () => number,
    private readonly runs: RunQueue,
    private readonly events: InputEvents,
    /** Something changed that a waiting read() should look at. */
    private readonly wake: () => void,
  ) {}

  create(fh: FileHandle, st: Stats, fp: Fingerprint, o: NewTailer): Tailer {
    const t = new Tailer({
      fh,
      ...o,
      identity: { dev: st.dev, ino: st.ino, ...fp },
      hostname: this.hostname,
      now: this.now,
      push: this.runs.push,
      allocate: this.runs.allocate,
    });
    this.openHandles.add(fh);
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
    this.openHandles.delete(t.fh);
    await t.fh.close().catch(() => {});
    this.events.emit({ type: 'finished', path: t.path, fileId: t.fileId, message: `closed at offset ${t.readOffset}` });
    if (t.queued === 0) this.forgetDrained();
  }

  /** Truncated or rewritten in place: what was read is done; the same handle continues from 0 as a new file id. */
  async restartReplaced(old: Tailer): Promise<void> {
    old.finish();
    const st = await old.fh.stat();
    const fp = await readFingerprint(old.fh);
    const next = this.create(old.fh, st, fp, {
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
    const links = await t.fh.stat().then((s) => s.nlink, () => 1);
    this.events.emit({ type: links === 0 ? 'removed' : 'rotated', path: t.path, fileId: t.fileId, message: 'finishing the open file' });
    this.wake();
  }

  /** Drops finished tailers whose runs have all been taken. */
  forgetDrained(): void {
    this.tailers = this.tailers.filter((t) => !(t.finished && t.queued === 0));
  }

  async closeAll(): Promise<void> {
    for (const fh of this.openHandles) await fh.close().catch(() => {});
    this.openHandles.clear();
  }
}
