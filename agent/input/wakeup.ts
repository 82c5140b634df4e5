// Lets a waiting read() sleep until something may have changed (or a deadline passes), without losing a wake-up.
export class Wakeup {
  private waiters: (() => void)[] = [];
  /** A wake() with nobody waiting: the next wait() returns at once instead of missing it. */
  private pending = false;

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.push(done);
    });
  }

  wake(): void {
    if (this.waiters.length === 0) {
      this.pending = true;
      return;
    }
    for (const w of [...this.waiters]) w();
  }
}
