// Waiting for usable data keys, per output: while an output's CMK cannot issue one, its batches are held in memory.
import type { DataKey } from '../keys/index.js';
import { KmsError } from '../keys/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { AgentMetrics } from '../telemetry/metrics.js';
import type { Output } from './outputs.js';

const KEY_RETRY_MS = 2000;

/**
 * A held batch is never sealed under a stale key, and its lines stay un-checkpointed. The other outputs keep
 * sealing and shipping, but the agent has one read loop for all files: once the held batches fill the in-flight
 * window, reading stops for every output until the key is back. No line is lost either way.
 */
export class KeyGate {
  private readonly holding = new Map<Output, string>();

  constructor(
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
  ) {}

  /** Why data is held, when it is: each held output's Logstore with the KMS code. */
  get holdingReason(): string | undefined {
    if (this.holding.size === 0) return undefined;
    return [...this.holding].map(([o, reason]) => `${o.logstore}: ${reason}`).join('; ');
  }

  /** Waits for a usable data key of `output`; undefined once `abandoned()` says to give up (shutdown). */
  async keyFor(output: Output, records: number, bytes: number, abandoned: () => boolean): Promise<DataKey | undefined> {
    for (;;) {
      try {
        const key = await output.keys.acquire(records, bytes);
        this.usable(output);
        return key;
      } catch (err) {
        if (!(err instanceof KmsError)) throw err;
        this.unusable(output, err);
        if (abandoned()) return undefined;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, KEY_RETRY_MS);
          const keys = output.keys;
          function done(): void {
            clearTimeout(timer);
            keys.off('restored', done);
            resolve();
          }
          keys.once('restored', done);
        });
      }
    }
  }

  private unusable(output: Output, err: KmsError): void {
    this.metrics.keyUnavailable.set(1);
    const reason = `${err.code}: ${err.message}`;
    if (this.holding.get(output) === reason) return;
    this.holding.set(output, reason);
    this.log.error(
      { code: err.code, cmk: output.cmk, logstore: output.logstore, cmkUnusable: err.cmkUnusable },
      err.cmkUnusable
        ? "the CMK cannot issue data keys: holding this Logstore's data (nothing of it is sealed or written) until the key is usable again; other Logstores go on until the held batches fill the in-flight window"
        : 'no data key available from KMS: holding data until KMS answers',
    );
  }

  private usable(output: Output): void {
    if (!this.holding.delete(output)) return;
    if (this.holding.size === 0) this.metrics.keyUnavailable.set(0);
    this.log.info({ cmk: output.cmk, logstore: output.logstore }, 'data keys available again: resuming');
  }
}
