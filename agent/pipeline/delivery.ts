// Gets sealed batches to SLS: straight away while it answers, through the disk spool (in order) while it does not.
import type { Logger } from '../telemetry/logger.js';
import type { AgentMetrics } from '../telemetry/metrics.js';
import { SlsError, type PutLogsPayload, type SlsClient } from '../ship/index.js';
import { SpoolFullError, type Spool } from '../spool/index.js';
import { replaySpool } from './spool-replay.js';

export interface SealedForDelivery {
  payload: PutLogsPayload;
  logCount: number;
}

const REPLAY_BASE_DELAY_MS = 500;
const REPLAY_MAX_DELAY_MS = 30_000;

/**
 * A batch counts as delivered once SLS acknowledged it or it is durably in the spool: either way its lines may be
 * checkpointed. While the spool holds anything, new batches queue behind it so replay keeps the original order.
 */
export class Delivery {
  private replaying: Promise<void> | undefined;
  private replayWake: (() => void) | undefined;
  private spaceWaiters: (() => void)[] = [];
  private lastFailure: string | undefined;
  private closed = false;
  // Replay stops at close(): what is still spooled is safe on disk and goes out at the next start.
  private readonly closing = new AbortController();

  constructor(
    private readonly client: SlsClient,
    private readonly spool: Spool,
    private readonly logstore: string,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    /** PutLogs requests replaying the spool at once. */
    private readonly replayParallel = 1,
  ) {
    this.updateGauges();
    if (spool.count > 0) {
      log.info({ entries: spool.count, bytes: spool.bytes }, 'replaying sealed batches left in the spool');
      this.kickReplay();
    }
  }

  /** Resolves once the batch is acknowledged by SLS or durably spooled. */
  async deliver(batch: SealedForDelivery): Promise<'shipped' | 'spooled'> {
    if (this.spool.count === 0 && !this.replaying) {
      try {
        await this.client.putLogs(this.logstore, batch.payload);
        this.shipped(batch);
        this.recovered();
        return 'shipped';
      } catch (err) {
        if (!(err instanceof SlsError)) throw err;
        this.failed(err);
      }
    }
    await this.toSpool(batch);
    return 'spooled';
  }

  /** True while batches wait on disk for SLS. */
  get backlog(): boolean {
    return this.spool.count > 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    this.replayWake?.();
    for (const w of this.spaceWaiters.splice(0)) w();
    await this.replaying;
  }

  private async toSpool(batch: SealedForDelivery): Promise<void> {
    for (;;) {
      try {
        await this.spool.append({ logstore: this.logstore, payload: batch.payload, logCount: batch.logCount });
        this.updateGauges();
        this.kickReplay();
        return;
      } catch (err) {
        if (!(err instanceof SpoolFullError) || this.closed) throw err;
        // The batch stays in memory (and so its lines stay un-checkpointed) until replay frees space; the pipeline's
        // in-flight window then stops the input, which is the backpressure we want.
        this.log.warn({ spoolBytes: this.spool.bytes }, 'spool full: holding batches in memory until SLS accepts writes');
        this.kickReplay();
        await new Promise<void>((r) => this.spaceWaiters.push(r));
      }
    }
  }

  private kickReplay(): void {
    if (this.replaying || this.closed) return;
    this.replaying = this.replay().finally(() => {
      this.replaying = undefined;
      // A batch may have been appended after the last check of the loop.
      if (this.spool.count > 0 && !this.closed) this.kickReplay();
    });
  }

  private replay(): Promise<void> {
    return replaySpool(this.client, this.spool, this.replayParallel, this.closing.signal, {
      shipped: (entry) => {
        this.shipped(entry);
        this.recovered();
        this.updateGauges();
        for (const w of this.spaceWaiters.splice(0)) w();
      },
      failed: (err) => this.failed(err),
      backOff: (attempt) =>
        new Promise<void>((resolve) => {
          const delay = Math.min(REPLAY_BASE_DELAY_MS * 2 ** attempt, REPLAY_MAX_DELAY_MS);
          const timer = setTimeout(done, delay * (0.5 + Math.random() / 2));
          this.replayWake = done;
          function done(): void {
            clearTimeout(timer);
            resolve();
          }
        }).finally(() => (this.replayWake = undefined)),
      closed: () => this.closed,
    });
  }

  private shipped(batch: SealedForDelivery): void {
    this.metrics.linesShipped.inc(batch.logCount);
    this.metrics.bytesShipped.inc(batch.payload.body.byteLength);
  }

  private failed(err: SlsError): void {
    this.metrics.retries.inc({ service: 'sls', code: err.code });
    // Say it loudly once per kind of failure, not once per batch.
    if (this.lastFailure !== err.code) {
      this.lastFailure = err.code;
      const msg = err.retryable
        ? 'SLS is not accepting writes; spooling sealed batches to disk and retrying'
        : 'SLS refused the write; holding sealed batches in the spool until this is fixed';
      this.log.error({ code: err.code, status: err.status, requestId: err.requestId, err: err.message }, msg);
    }
  }

  private recovered(): void {
    if (this.lastFailure !== undefined) {
      this.log.info({ previous: this.lastFailure }, 'SLS accepts writes again');
      this.lastFailure = undefined;
    }
  }

  private updateGauges(): void {
    this.metrics.spoolBytes.set(this.spool.bytes);
    this.metrics.spoolEntries.set(this.spool.count);
  }
}
