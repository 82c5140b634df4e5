// Runs read from files, waiting for the consumer: handed out in order, cut to size, their buffers recycled.
import type { InputRun } from './types.js';

/** Run buffers kept for reuse between reads. */
const MAX_FREE_RUN_BUFFERS = 4;

/** What a run is counted against: its file's tailer, which is forgotten only once none of its runs is queued. */
export interface RunOwner {
  queued: number;
  finished: boolean;
  /** File offset after the last log the consumer took. */
  takenOffset: number;
}

/** The first `n` logs of `run` and the rest, as views of its arrays. */
function cutRun(run: InputRun, n: number): [InputRun, InputRun] {
  const at = run.ends[n - 1];
  const first: InputRun = {
    ...run,
    bytes: run.bytes.subarray(0, at),
    ends: run.ends.subarray(0, n),
    offsets: run.offsets.subarray(0, n),
    count: n,
  };
  const restEnds = run.ends.slice(n);
  for (let i = 0; i < restEnds.length; i++) restEnds[i] -= at;
  const rest: InputRun = {
    ...run,
    bytes: run.bytes.subarray(at),
    ends: restEnds,
    offsets: run.offsets.subarray(n),
    count: run.count - n,
    startOffset: run.offsets[n - 1],
  };
  return [first, rest];
}

export class RunQueue {
  private queue: InputRun[] = [];
  private owners: RunOwner[] = [];
  private head = 0;
  /** Logs in queue[head…]. */
  private queuedLogs = 0;
  /** Buffers of the runs the last take() handed out, and buffers free for new runs. */
  private lent: ArrayBufferLike[] = [];
  private readonly free: Buffer[] = [];

  /**
   * `runBufferBytes`: the size of a fresh run buffer (larger requests get what they ask for); requests under
   * `smallRunBytes` get a buffer of their own size, not recycled.
   */
  constructor(
    private readonly runBufferBytes: number,
    private readonly smallRunBytes: number,
  ) {}

  get logs(): number {
    return this.queuedLogs;
  }

  get empty(): boolean {
    return this.head === this.queue.length;
  }

  readonly push = (run: InputRun, from: RunOwner): void => {
    this.queue.push(run);
    this.owners.push(from);
    this.queuedLogs += run.count;
    from.queued++;
  };

  /** Runs holding at most `max` logs in all (a run is cut when needed); true in `drainedFinished` when a finished owner has nothing queued any more. */
  take(max: number): { runs: InputRun[]; drainedFinished: boolean } {
    const runs: InputRun[] = [];
    let logs = 0;
    let drainedFinished = false;
    while (this.head < this.queue.length && logs < max) {
      let run = this.queue[this.head];
      const t = this.owners[this.head];
      if (logs + run.count > max) {
        const [first, rest] = cutRun(run, max - logs);
        this.queue[this.head] = rest;
        run = first;
      } else {
        this.head++;
        this.lent.push(run.bytes.buffer);
        t.queued--;
        if (t.finished && t.queued === 0) drainedFinished = true;
      }
      t.takenOffset = run.offsets[run.count - 1];
      logs += run.count;
      runs.push(run);
    }
    this.queuedLogs -= logs;
    if (this.head === this.queue.length) this.clear();
    return { runs, drainedFinished };
  }

  clear(): void {
    this.queue = [];
    this.owners = [];
    this.head = 0;
    this.queuedLogs = 0;
  }

  // Run buffers are recycled rather than left to the garbage collector: at full speed the input would otherwise
  // allocate its whole throughput in fresh buffers, and that churn is what drives V8 into full collections.
  // A small run (a few lines of one of many quiet files) gets a buffer of its size: rounding every run up to a full
  // run buffer cost 10,000 small files ~7 GB of allocations and most of their reading time in the collector.
  readonly allocate = (size: number): Buffer => {
    if (size < this.smallRunBytes) return Buffer.allocUnsafeSlow(size);
    for (let i = this.free.length - 1; i >= 0; i--) {
      if (this.free[i].length >= size) return this.free.splice(i, 1)[0];
    }
    return Buffer.allocUnsafeSlow(Math.max(size, this.runBufferBytes));
  };

  /** The consumer is done with the runs take() handed out last: their buffers may be reused. */
  reclaimLent(): void {
    for (const buffer of this.lent) {
      if (this.free.length < MAX_FREE_RUN_BUFFERS && buffer.byteLength >= this.runBufferBytes) this.free.push(Buffer.from(buffer));
    }
    this.lent = [];
  }
}
