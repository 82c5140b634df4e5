// Gets sealed batches to SLS: straight away while it answers, through the disk spool (in order) while it does not,
// and to the dead-letter directory when SLS refuses one for good.
import type { Logger } from '../telemetry/logger.js';
import type { AgentMetrics } from '../telemetry/metrics.js';
import {
  SlsError,
  isPermanentRefusal,
  reportedRequest,
  type PutLogsPayload,
  type Release,
  type RequestConcurrency,
  type SlsClient,
} from '../ship/index.js';
import { SpoolFullError, type Spool } from '../spool/index.js';
import type { DeadLetters } from './dead-letters.js';
import { replaySpool } from './spool-replay.js';

export interface SealedForDelivery {
  /** The Logstore the batch was sealed for (its AAD and data key name it): it can go nowhere else. */
  logstore: string;
  payload: PutLogsPayload;
  logCount: number;
}

const REPLAY_BASE_DELAY_MS = 500;
const REPLAY_MAX_DELAY_MS = 30_000;

/**
 * A batch counts as delivered once SLS acknowledged it or it is durably in the spool: either way its lines may be
 * checkpointed. While the spool holds anything, new batches queue behind it so replay keeps the original order.
 * A batch SLS refuses for good (isPermanentRefusal) is diverted to the dead-letter directory and counts as delivered
 * too, so it never holds up the batches behind it.
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
    private readonly deadLetters: DeadLetters,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
    /** How many PutLogs requests go out at once, of new batches and of spool replay alike (ship/concurrency.ts). */
    private readonly concurrency: RequestConcurrency,
  ) {
    this.updateGauges();
    if (spool.count > 0) {
      log.info({ entries: spool.count, bytes: spool.bytes }, 'replaying sealed batches left in the spool');
      this.kickReplay();
    }
  }

  /** Resolves once the batch is acknowledged by SLS, durably spooled, or dead-lettered. */
  async deliver(batch: SealedForDelivery): Promise<'shipped' | 'spooled' | 'dead-lettered'> {
    if (this.spool.count === 0 && !this.replaying) {
      const release = await this.concurrency.acquire();
      // A batch that failed while this one waited for its turn is in the spool now: this one queues behind it.
      if (this.spool.count === 0 && !this.replaying) {
        const sent = await this.send(batch, release);
        if (sent) return sent;
      } else {
        release({ other: true });
      }
    }
    await this.toSpool(batch);
    return 'spooled';
  }

  /** One PutLogs; undefined when the batch is to be spooled. */
  private async send(batch: SealedForDelivery, release: Release): Promise<'shipped' | 'dead-lettered' | undefined> {
    try {
      await reportedRequest(release, (onRetry) => this.client.putLogs(batch.logstore, batch.payload, { onRetry }));
    } catch (err) {
      if (!(err instanceof SlsError)) throw err;
      if (isPermanentRefusal(err) && (await this.diverted(batch, err))) return 'dead-lettered';
      if (!isPermanentRefusal(err)) this.failed(err);
      return undefined;
    }
    this.shipped(batch);
    this.recovered();
    return 'shipped';
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
        await this.spool.append({ logstore: batch.logstore, payload: batch.payload, logCount: batch.logCount });
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
    return replaySpool(this.client, this.spool, this.concurrency, this.closing.signal, {
      shipped: (entry) => {
        this.shipped(entry);
        this.recovered();
        this.updateGauges();
        for (const w of this.spaceWaiters.splice(0)) w();
      },
      // A batch SLS refuses for good goes to the dead-letter directory instead of blocking the entries behind it.
      putAside: async (entry, err) => {
        if (!isPermanentRefusal(err) || !(await this.diverted(entry, err))) return false;
        await this.spool.remove(entry.id);
        this.updateGauges();
        for (const w of this.spaceWaiters.splice(0)) w();
        return true;
      },
      // A permanent refusal that could not be put aside was logged by `diverted` already.
      failed: (err) => {
        if (!isPermanentRefusal(err)) this.failed(err);
      },
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

  /** True once the batch is in the dead-letter directory (or dropped there by its bound); false if that failed. */
  private async diverted(batch: SealedForDelivery, err: SlsError): Promise<boolean> {
    try {
      await this.deadLetters.divert(batch, err);
      return true;
    } catch (writeErr) {
      // Not stored anywhere yet: keep the batch (spooled, it is tried again, refused again, diverted again).
      this.log.error({ code: err.code, err: (writeErr as Error).message }, 'SLS refused a batch for good but the dead-letter directory cannot be written; keeping it in the spool');
      return false;
    }
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
