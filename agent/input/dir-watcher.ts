// fs.watch on the directories input files live in: only a hint to react sooner, scans remain the source of truth.
import { watch, type FSWatcher } from 'node:fs';

/** Past this many directories, scans alone find changes (inotify watches are a finite, shared resource). */
const MAX_WATCHED_DIRS = 512;

export type DirChange = (dir: string, event: 'rename' | 'change', name: string | null) => void;

export class DirWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private closed = false;

  constructor(private readonly onChange: DirChange) {}

  /** Watches exactly these directories from now on. */
  update(dirs: Set<string>): void {
    for (const [dir, w] of this.watchers) {
      if (!dirs.has(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of dirs) {
      if (this.closed || this.watchers.size >= MAX_WATCHED_DIRS) return;
      if (this.watchers.has(dir)) continue;
      try {
        // Not persistent: watching alone never keeps the process alive.
        const w = watch(dir, { persistent: false }, (event, name) => this.onChange(dir, event, name?.toString() ?? null));
        w.on('error', () => {
          w.close();
          if (this.watchers.get(dir) === w) this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        // Missing directory or no inotify watches left: periodic scans still cover it.
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
