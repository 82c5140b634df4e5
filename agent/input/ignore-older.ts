// inputs[].ignoreOlder: files not modified for a while are not opened; one that is written again is followed from there.
//
// An old file is remembered (dev+ino, size, fingerprint) when first passed over, so that if it is written again only
// what was appended since is read, as `startAt: end` would; a file with a checkpoint is always resumed, whatever its
// age, so lines read before a restart but not yet shipped are never skipped.
import type { Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { devInoKey, fingerprintMatches, readFingerprint, type Fingerprint } from './identity.js';
import type { LogFile } from './log-file.js';

interface PassedOver extends Fingerprint {
  size: number;
  mtimeMs: number;
}

export class OldFiles {
  private readonly passed = new Map<string, PassedOver>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * True when the file at `p` (stat `st`) is older than `ignoreOlderMs` and is to be passed over. Opens it only the
   * first time it is seen in that state, to fingerprint it.
   */
  async passOver(p: string, st: Stats, ignoreOlderMs: number | undefined): Promise<boolean> {
    if (ignoreOlderMs === undefined || this.now() - st.mtimeMs <= ignoreOlderMs) return false;
    const key = devInoKey(st);
    const seen = this.passed.get(key);
    if (seen && seen.mtimeMs === st.mtimeMs && seen.size === st.size) return true;
    let fh: FileHandle | undefined;
    try {
      fh = await open(p, 'r');
      const fp = await readFingerprint(fh);
      this.passed.set(key, { ...fp, size: st.size, mtimeMs: st.mtimeMs });
    } catch {
      // Unreadable now: the regular open reports why, once it is recent enough to be opened.
    } finally {
      await fh?.close().catch(() => {});
    }
    return true;
  }

  /** Where a file passed over before starts now that it is followed: where it ended then, if it is still that file. */
  async startOffset(fh: LogFile, st: Stats): Promise<number | undefined> {
    const key = devInoKey(st);
    const seen = this.passed.get(key);
    if (!seen) return undefined;
    this.passed.delete(key);
    if (st.size < seen.size || !(await fingerprintMatches(fh, seen))) return undefined;
    return seen.size;
  }
}
