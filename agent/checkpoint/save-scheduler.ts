// Coalesced checkpoint saves: one write at a time, and requests made during it become one more write right after it.
const RETRY_AFTER_FAILURE_MS = 1000;
/** How long a save nobody waits for may be left to a save somebody does wait for (see requestSoon). */
export const DEFAULT_SOON_MS = 250;

interface Waiters {
  promise: Promise<void>;
  resolve: () => void;
}

function waiters(): Waiters {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Saving right after every acknowledgement keeps what a crash sends again down to what was really in flight; coalescing
 * keeps that to at most one write (file fsync, rename, directory fsync) in flight, however fast acknowledgements come.
 * `write` is called when a write starts, so it takes the newest positions, not the ones of the first request.
 */
export class SaveScheduler {
  private next: Waiters | undefined;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (err: Error) => void,
    private readonly soonMs = DEFAULT_SOON_MS,
  ) {}

  /**
   * Asks for a save of the positions as they are when it starts. Resolves once a write that started after this call
   * has ended: saved, or failed and reported. After a failure the next write is the retry a second later, so callers
   * are slowed to that pace while checkpoints cannot be saved (and fewer lines pile up that a crash would resend).
   */
  request(): Promise<void> {
    this.next ??= waiters();
    const done = this.next.promise;
    // After a failure the retry timer starts the next write: not every acknowledgement meanwhile.
    if (!this.retryTimer) this.running ??= this.run();
    return done;
  }

  /**
   * Asks for a save that nobody waits for, within `soonMs`: a write that starts before then (a request() after an
   * acknowledgement, under steady load several a second) saves these positions too, and no write of its own is made.
   */
  requestSoon(): void {
    if (this.soonTimer || this.next) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.request();
    }, this.soonMs);
    // Unref'd: at shutdown the last flush() writes everything anyway.
    this.soonTimer.unref();
  }

  /** Writes what is requested now (without waiting for a pending retry) and resolves once nothing is being written. */
  async flush(): Promise<void> {
    if (this.soonTimer) {
      this.cancelSoon();
      this.next ??= waiters();
    }
    if (this.retryTimer) this.close();
    if (this.next) this.running ??= this.run();
    while (this.running) await this.running;
  }

  /** Stops retrying failed saves and drops saves asked for soon (at shutdown, after the last flush). */
  close(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.cancelSoon();
  }

  private cancelSoon(): void {
    clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
  }

  private async run(): Promise<void> {
    try {
      while (this.next) {
        const current = this.next;
        this.next = undefined;
        // This write takes the newest positions: a save asked for soon is made by it.
        this.cancelSoon();
        try {
          await this.write();
        } catch (err) {
          this.onError(err as Error);
          this.retryLater();
          return;
        } finally {
          current.resolve();
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  private retryLater(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.request();
    }, RETRY_AFTER_FAILURE_MS);
    this.retryTimer.unref();
  }
}
