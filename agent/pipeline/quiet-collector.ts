// One full garbage collection once the agent has gone quiet after shipping: memory given back after a burst.
//
// V8 grows the main heap under load (to ~50 MB at 60 MB/s) and its memory reducer does not always shrink it when the
// load stops: 40 s after a burst the agent still held ~113 MiB of RSS against 63 before it (native-bench/RESULTS.md
// §12.5). A full collection once nothing was shipped for `quietMs` takes the heap back to its live size, and V8 then
// returns the freed pages; the batcher's spare buffers (kept for reuse under load, up to one per batch that was in
// flight at once) are let go of first, so that it frees them too. It costs one collection (~10-20 ms of CPU) per
// quiet period, and no timer runs while the agent is idle or busy: the timer is armed by activity and stops after the
// collection.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type Collect = () => void;

/**
 * V8's full collection, made reachable without starting Node with --expose-gc: the flag set at run time gives new
 * contexts a `gc` function. Undefined where that does not work.
 */
export function fullCollection(): Collect | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    return typeof gc === 'function' ? (gc as Collect) : undefined;
  } catch {
    return undefined;
  }
}

export class QuietCollector {
  private lastActivity = 0;
  private timer: NodeJS.Timeout | undefined;
  private collect: Collect | undefined | null = null; // null: not looked up yet
  private collections = 0;

  /** `release`: called first, to drop what is kept only for reuse under load, so that the collection frees it too. */
  constructor(
    private readonly quietMs = 20_000,
    private readonly find: () => Collect | undefined = fullCollection,
    private readonly now: () => number = Date.now,
    private readonly release: () => void = () => {},
  ) {}

  /** Something was shipped: a collection follows once nothing else is for quietMs. */
  activity(): void {
    this.lastActivity = this.now();
    if (!this.timer) this.arm(this.quietMs);
  }

  /** Full collections made so far. */
  get count(): number {
    return this.collections;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      const quiet = this.now() - this.lastActivity;
      if (quiet < this.quietMs) {
        this.arm(this.quietMs - quiet);
        return;
      }
      this.timer = undefined;
      this.release();
      if (this.collect === null) this.collect = this.find();
      if (this.collect) {
        this.collect();
        this.collections++;
      }
    }, ms).unref();
  }
}
