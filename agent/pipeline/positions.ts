// Which file offsets are safe to checkpoint: only past lines whose batch was acknowledged or durably spooled.
import { AckTracker, type FileCheckpoint } from '../checkpoint/index.js';
import type { PlainBatch } from '../batch/batcher.js';
import type { InputRun } from '../input/index.js';
import { ResendMeter } from './resend-meter.js';

/** What the input tells about a file: its identity, the offset just past the last entry it handed out, and where
 *  this run began reading it. */
export type KnownFile = FileCheckpoint & { startOffset?: number };

// Files that vanished are kept this long in the checkpoint, so a rotated file that reappears under a matching name
// (app.log.1 while the glob is app.log*) is recognised and not read again.
const FORGET_AFTER_MS = 24 * 3600_000;

export class Positions {
  private readonly tracker = new AckTracker();
  private readonly resend: ResendMeter;
  /** Entries read but not yet in an acknowledged batch, per file. */
  private readonly unacked = new Map<string, number>();
  private readonly files = new Map<string, { cp: KnownFile; lastSeen: number }>();

  constructor(saved: Map<string, FileCheckpoint>, private readonly now: () => number = Date.now) {
    this.resend = new ResendMeter(saved.values());
    // readTo describes the previous run; this run records its own.
    for (const { readTo: _previousRun, ...cp } of saved.values()) this.files.set(cp.fileId, { cp, lastSeen: now() });
  }

  /** Called for the entries handed to the batcher: `n` more from `fileId`. */
  read(fileId: string, n = 1): void {
    this.unacked.set(fileId, (this.unacked.get(fileId) ?? 0) + n);
  }

  /** Lines of `run` that the previous run may have sent already (see ResendMeter). */
  resent(run: InputRun): number {
    return this.resend.count(run);
  }

  dispatched(batch: PlainBatch): void {
    this.tracker.register(batch.id, batch.ends);
  }

  acknowledged(batch: PlainBatch): void {
    this.tracker.ack(batch.id);
    for (const [fileId, n] of batch.counts) {
      const left = (this.unacked.get(fileId) ?? 0) - n;
      if (left > 0) this.unacked.set(fileId, left);
      else this.unacked.delete(fileId);
    }
  }

  get pendingBatches(): number {
    return this.tracker.pending();
  }

  /**
   * The checkpoints to save now. A file with nothing outstanding is safe up to what the input emitted; a file with
   * outstanding entries is safe up to the acknowledged prefix of its batches (or stays where it was).
   */
  snapshot(inputFiles: KnownFile[]): FileCheckpoint[] {
    const t = this.now();
    const committed = this.tracker.committed();
    for (const f of inputFiles) {
      const known = this.files.get(f.fileId);
      const outstanding = this.unacked.has(f.fileId);
      let offset: number;
      if (!outstanding) offset = f.offset;
      // The acknowledged prefix may be lower than what was saved before: a truncated file starts again at 0.
      else offset = committed.get(f.fileId) ?? known?.cp.offset ?? -1;
      if (offset < 0) {
        // Read from, but nothing acknowledged yet and never checkpointed: remember where this run started.
        offset = f.startOffset ?? 0;
      }
      // Lines between the checkpoint and the read position are in batches, some of them sent: recorded for ResendMeter.
      const cp: KnownFile = { ...f, offset };
      if (f.offset > offset) cp.readTo = f.offset;
      else delete cp.readTo;
      this.files.set(f.fileId, { cp, lastSeen: t });
    }
    const present = new Set(inputFiles.map((f) => f.fileId));
    for (const [id, { cp, lastSeen }] of this.files) {
      if (!present.has(id)) {
        const c = committed.get(id);
        if (c !== undefined && c > cp.offset) cp.offset = c;
        if (cp.readTo !== undefined && cp.readTo <= cp.offset) delete cp.readTo;
        if (t - lastSeen > FORGET_AFTER_MS && !this.unacked.has(id)) this.files.delete(id);
      }
    }
    return [...this.files.values()].map(({ cp: { startOffset: _notPersisted, ...cp } }) => cp);
  }

  /** Bytes read but not yet safe, summed over files (the checkpoint lag). */
  lag(inputFiles: KnownFile[]): number {
    let n = 0;
    for (const f of inputFiles) {
      const saved = this.files.get(f.fileId)?.cp.offset ?? f.offset;
      n += Math.max(0, f.offset - saved);
    }
    return n;
  }
}
