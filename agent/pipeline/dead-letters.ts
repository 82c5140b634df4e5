// Diverts a batch SLS refused for good to the dead-letter directory, with its metrics and log lines, so it can be acked.
import type { DeadLetterDir } from '../dead-letter/index.js';
import type { SlsError } from '../ship/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { AgentMetrics } from '../telemetry/metrics.js';
import type { SealedForDelivery } from './delivery.js';

export class DeadLetters {
  constructor(
    private readonly dir: DeadLetterDir,
    private readonly project: string,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Stores the sealed batch (or drops it when the directory is full) and resolves: either way its lines may be
   * checkpointed. Rejects with a DeadLetterError when the directory cannot be written; the batch is then not
   * acknowledged and the caller keeps it.
   */
  async divert(batch: SealedForDelivery, err: SlsError): Promise<void> {
    const { payload } = batch;
    const outcome = await this.dir.put(
      {
        project: this.project,
        logstore: batch.logstore,
        compressType: payload.compressType,
        rawSize: payload.rawSize,
        logCount: batch.logCount,
        refusedAt: Date.now(),
        code: err.code,
        status: err.status,
        message: err.message,
        ...(err.requestId ? { requestId: err.requestId } : {}),
      },
      payload.body,
    );
    this.metrics.deadLetterLines.inc(batch.logCount);
    const about = { code: err.code, status: err.status, requestId: err.requestId, logstore: batch.logstore, lines: batch.logCount, bytes: outcome.bytes };
    if (outcome.stored) {
      this.metrics.deadLetterBatches.inc({ code: err.code });
      this.metrics.deadLetterBytes.inc({ code: err.code }, outcome.bytes);
      this.log.error({ ...about, file: outcome.file }, 'SLS refused a batch for good; moved it (sealed) to the dead-letter directory and went on');
    } else {
      this.metrics.deadLetterDropped.inc({ code: err.code });
      this.log.error(
        { ...about, dir: this.dir.dir, usedBytes: outcome.usedBytes },
        'SLS refused a batch for good and the dead-letter directory is full (deadLetter.maxBytes): the batch is dropped',
      );
    }
  }
}
