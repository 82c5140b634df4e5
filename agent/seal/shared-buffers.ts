// Memory shared with the seal workers, reused batch after batch: the buffers PutLogs bodies are written into.
//
// V8 counts every ArrayBuffer that arrives from another thread as freshly allocated external memory, and every ~64 MB
// of it starts a full collection of the receiving thread's heap, however small that heap is. Bodies moved in from the
// workers did that 8-10 times a second at full speed in mode `log` (~1.6 bytes of body per byte of log text), each a
// few milliseconds of the main thread plus concurrent marking on V8's helper threads (native-bench/RESULTS.md §12.4).
// A SharedArrayBuffer is not counted (its memory belongs to no one thread), so bodies written into these buffers cost
// no collections; because nothing counts them either, they are held here and handed out again rather than left for
// the collector to find, and the pool's size is bounded.

/** Sizes are rounded up to this, so that bodies of similar size share buffers. */
const STEP = 64 * 1024;

export class SharedBuffers {
  private readonly free: SharedArrayBuffer[] = [];
  private lastTake = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * Keeps at most `maxFree` buffers between uses, and none once `idleMs` passed without a take(): an agent that went
   * quiet gives the memory back (to the collector, which frees a SharedArrayBuffer nothing refers to).
   */
  constructor(
    private readonly maxFree: number,
    private readonly idleMs = 10_000,
  ) {}

  /**
   * A buffer of at least `bytes`: the smallest free one large enough, else a new one. Free buffers over twice the size
   * asked for are dropped instead: what is kept follows what batches need now, not what the largest ever did.
   */
  take(bytes: number): SharedArrayBuffer {
    this.lastTake = Date.now();
    const want = Math.max(STEP, Math.ceil(bytes / STEP) * STEP);
    for (let i = this.free.length - 1; i >= 0; i--) if (this.free[i].byteLength > 2 * want) this.free.splice(i, 1);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i].byteLength;
      if (size >= want && (best < 0 || size < this.free[best].byteLength)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0];
    return new SharedArrayBuffer(want);
  }

  /** Hands `buffer` back once nothing reads it; a later take() may return it. */
  give(buffer: SharedArrayBuffer): void {
    if (this.free.includes(buffer)) return;
    this.free.push(buffer);
    this.watchIdle();
    // Over the bound, the smallest goes: what is kept should fit what comes next.
    if (this.free.length > this.maxFree) {
      let smallest = 0;
      for (let i = 1; i < this.free.length; i++) if (this.free[i].byteLength < this.free[smallest].byteLength) smallest = i;
      this.free.splice(smallest, 1);
    }
  }

  /** Buffers kept for reuse now. */
  get freeCount(): number {
    return this.free.length;
  }

  /** Drops every buffer kept for reuse. */
  clear(): void {
    this.free.length = 0;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private watchIdle(): void {
    if (this.idleTimer) return;
    const check = (): void => {
      const quiet = Date.now() - this.lastTake;
      if (quiet >= this.idleMs) {
        this.idleTimer = undefined;
        this.free.length = 0;
      } else {
        this.idleTimer = setTimeout(check, this.idleMs - quiet).unref();
      }
    };
    this.idleTimer = setTimeout(check, this.idleMs).unref();
  }
}
