// Which file offsets are safe to checkpoint: a file's offset moves past a batch only once that batch and every
// earlier batch holding lines of the same file are acknowledged, however out of order the acknowledgements arrive.

interface Batch {
  id: number;
  fileIds: string[];
  acked: boolean;
  /** File queues that still hold this batch; the record is dropped when this reaches 0 after the ack. */
  queued: number;
}

interface Span {
  batch: Batch;
  endOffset: number;
}

/** Spans of one file in the order their batches were registered; `head` skips the ones already committed. */
interface FileQueue {
  spans: Span[];
  head: number;
}

export class AckTracker {
  private readonly batches = new Map<number, Batch>();
  private readonly files = new Map<string, FileQueue>();
  private readonly offsets = new Map<string, number>();
  private unacked = 0;

  /**
   * Records that batch `batchId` holds lines of each file up to (excluding) the given end offset.
   * Register batches in the order their lines were read: that order, not the id, decides what "earlier" means.
   */
  register(batchId: number, ends: Map<string, number>): void {
    if (this.batches.has(batchId)) throw new Error(`batch ${batchId} is already registered`);
    const batch: Batch = { id: batchId, fileIds: [...ends.keys()], acked: false, queued: ends.size };
    this.batches.set(batchId, batch);
    this.unacked++;
    for (const [fileId, endOffset] of ends) {
      let queue = this.files.get(fileId);
      if (!queue) this.files.set(fileId, (queue = { spans: [], head: 0 }));
      queue.spans.push({ batch, endOffset });
    }
  }

  /** Marks a batch acknowledged (shipped, or safely spooled). Unknown or repeated ids are ignored. */
  ack(batchId: number): void {
    const batch = this.batches.get(batchId);
    if (!batch || batch.acked) return;
    batch.acked = true;
    this.unacked--;
    for (const fileId of batch.fileIds) this.advance(fileId);
    if (batch.queued === 0) this.batches.delete(batchId);
  }

  /** Per file, the offset below which every registered batch is acknowledged (files with nothing acked yet are absent). */
  committed(): Map<string, number> {
    return new Map(this.offsets);
  }

  /** Batches registered and not yet acknowledged. */
  pending(): number {
    return this.unacked;
  }

  /** Stops reporting a file that is gone for good, once none of its batches is outstanding. */
  forget(fileId: string): void {
    const queue = this.files.get(fileId);
    if (queue && queue.head < queue.spans.length) return;
    this.files.delete(fileId);
    this.offsets.delete(fileId);
  }

  private advance(fileId: string): void {
    const queue = this.files.get(fileId)!;
    while (queue.head < queue.spans.length && queue.spans[queue.head]!.batch.acked) {
      const span = queue.spans[queue.head++]!;
      this.offsets.set(fileId, span.endOffset);
      if (--span.batch.queued === 0) this.batches.delete(span.batch.id);
    }
    // Compact now and then so a long-lived file's queue does not grow without bound.
    if (queue.head >= 64 && queue.head * 2 >= queue.spans.length) {
      queue.spans.splice(0, queue.head);
      queue.head = 0;
    }
  }
}
