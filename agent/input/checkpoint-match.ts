// Where each file found starts reading: the previous run's checkpoints, inode reuse, startAt, files rotated away.
import type { Stats } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { devInoKey, fingerprintMatches, headMatches, newFileId } from './identity.js';
import type { LogFile } from './log-file.js';
import type { FileCheckpoint } from './types.js';

export interface StartPoint {
  fileId: string;
  offset: number;
  /** Continuing a checkpoint (possibly inside a split line). */
  resumed: boolean;
  /** For the 'opened' event. */
  note: string;
  /** Set when the checkpointed file is now shorter than its checkpoint. */
  truncated?: FileCheckpoint;
}

/** A checkpointed file found under a name no glob matches: to be read to its end, then closed. */
export interface RotatedAway {
  path: string;
  fh: FileHandle;
  stat: Stats;
  checkpoint: FileCheckpoint;
}

export class CheckpointMatcher {
  /** Checkpoints not matched to a file yet, by dev+ino; only consulted during the startup scan. */
  private readonly unmatched = new Map<string, FileCheckpoint[]>();
  /** Paths followed before the restart: a file there that matches no checkpoint arrived while we were stopped. */
  private readonly previousPaths = new Set<string>();
  private startup = true;

  constructor(checkpoints: Iterable<FileCheckpoint>) {
    for (const cp of checkpoints) {
      const key = devInoKey(cp);
      this.unmatched.set(key, [...(this.unmatched.get(key) ?? []), cp]);
      this.previousPaths.add(cp.path);
    }
  }

  /** Where a newly found file starts: its checkpoint, 0 for new data, or startAt for files present at startup. */
  async startPoint(p: string, fh: LogFile, st: Stats, startAt: 'beginning' | 'end'): Promise<StartPoint> {
    const key = devInoKey(st);
    const candidates = this.unmatched.get(key) ?? [];
    this.unmatched.delete(key); // whatever else had this inode is gone: inode numbers are reused
    const match = await bestMatch(fh, candidates);
    if (match && match.offset <= st.size) {
      return { fileId: match.fileId, offset: match.offset, resumed: true, note: `resuming at offset ${match.offset}` };
    }
    const fresh = (note: string): StartPoint => ({ fileId: newFileId(st), offset: 0, resumed: false, note });
    if (match) return { ...fresh('truncated while stopped; reading from 0'), truncated: match };
    if (candidates.length > 0) return fresh('inode reused by a new file; reading from 0');
    if (!this.startup) return fresh('new file; reading from 0');
    if (this.previousPaths.has(p)) return fresh('created while stopped; reading from 0');
    if (startAt === 'end') {
      return { fileId: newFileId(st), offset: st.size, resumed: false, note: `starting at end, offset ${st.size}` };
    }
    return fresh('reading from 0');
  }

  /** Whether a checkpoint (not yet matched) may belong to this file: only during the startup scan. */
  expects(st: { dev: number; ino: number }): boolean {
    return this.unmatched.has(devInoKey(st));
  }

  /** Whether a gzip file in `dir` may be the compressed copy of a checkpointed file (see compressedFrom). */
  expectsCompressedIn(dir: string): boolean {
    if (!this.startup) return false;
    for (const cps of this.unmatched.values()) if (cps.some((c) => path.dirname(c.path) === dir)) return true;
    return false;
  }

  /**
   * Checkpointed files no glob matched may have been renamed away while we were stopped (app.log → app.log.1): looks
   * for them by dev+ino+fingerprint in their old directory. `isOpen` skips files already followed.
   */
  async findRotatedAway(isOpen: (devIno: string) => boolean, report: (p: string, err: unknown) => void): Promise<RotatedAway[]> {
    const byDir = new Map<string, FileCheckpoint[]>();
    for (const cps of this.unmatched.values()) {
      for (const cp of cps) byDir.set(path.dirname(cp.path), [...(byDir.get(path.dirname(cp.path)) ?? []), cp]);
    }
    const found: RotatedAway[] = [];
    for (const [dir, cps] of byDir) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const p = path.join(dir, name);
        const st = await stat(p).catch(() => undefined);
        if (!st?.isFile()) continue;
        const key = devInoKey(st);
        const candidates = cps.filter((cp) => devInoKey(cp) === key);
        if (candidates.length === 0 || !this.unmatched.has(key) || isOpen(key)) continue;
        let fh: FileHandle | undefined;
        try {
          fh = await open(p, 'r');
          const opened = await fh.stat();
          const match = devInoKey(opened) === key ? await bestMatch(fh, candidates) : undefined;
          if (match && match.offset <= opened.size) {
            this.unmatched.delete(key);
            found.push({ path: p, fh, stat: opened, checkpoint: match });
            continue;
          }
          await fh.close();
        } catch (err) {
          await fh?.close().catch(() => {});
          report(p, err);
        }
      }
    }
    return found;
  }

  /**
   * During the startup scan: the checkpoint of a file gone from `dir` whose content `head` starts with, i.e. the
   * plain file a compressed one was made from (app.log.1 -> app.log.1.gz while we were stopped). It is taken.
   */
  compressedFrom(dir: string, head: Buffer): FileCheckpoint | undefined {
    if (!this.startup) return undefined;
    for (const [key, cps] of this.unmatched) {
      const cp = cps.find((c) => path.dirname(c.path) === dir && headMatches(head, c));
      if (cp) {
        this.unmatched.delete(key);
        return cp;
      }
    }
    return undefined;
  }

  /**
   * The startup scan is over. Checkpoints still unmatched belong to files that are gone; keeping them would risk
   * matching a later file that reuses the inode and starts with the same bytes. A file that shows up late is new.
   */
  endStartup(): void {
    this.startup = false;
    this.unmatched.clear();
  }
}

/** Of the checkpoints for one inode, the one whose fingerprint the file still starts with (the longest wins). */
async function bestMatch(fh: LogFile, candidates: FileCheckpoint[]): Promise<FileCheckpoint | undefined> {
  let best: FileCheckpoint | undefined;
  for (const cp of candidates) {
    if (!(await fingerprintMatches(fh, cp))) continue;
    const better =
      !best || cp.fingerprintBytes > best.fingerprintBytes || (cp.fingerprintBytes === best.fingerprintBytes && cp.offset < best.offset);
    if (better) best = cp;
  }
  return best;
}
