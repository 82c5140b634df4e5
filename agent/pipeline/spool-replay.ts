// Drains the spool with several PutLogs at once, oldest entries first, each removed only once SLS accepted it.
import { SlsError, reportedRequest, type Release, type RequestConcurrency, type SlsClient } from '../ship/index.js';
import { SPOOL_PRELOAD, type Spool, type SpoolEntry } from '../spool/index.js';

export interface ReplayHooks {
  /** SLS accepted the entry and it is gone from the spool. */
  shipped(entry: SpoolEntry): void;
  /**
   * SLS refused the entry: true when it was put aside for good (dead-lettered) and removed from the spool, so replay
   * goes on as after a success; false to treat it as a failure and back off.
   */
  putAside(entry: SpoolEntry, err: SlsError): Promise<boolean>;
  /** A PutLogs failed; replay backs off before sending again. */
  failed(err: SlsError): void;
  /** Waits out the back-off after a failure (resolves early when woken or closed). */
  backOff(attempt: number): Promise<void>;
  closed(): boolean;
}

/**
 * One request at a time drains a backlog at one body per round trip, far below what the agent reads. Up to `parallel`
 * of the oldest entries are in flight together, as live batches are (given the agent's PutLogs concurrency: as many as
 * it allows, and replay's round trips and pushback move it as live requests do); each leaves the spool only after its
 * own acknowledgement, so a crash resends at most those in flight. Checkpoints do not depend on replay: a batch counted as
 * delivered once it was durably spooled. After a failure no new request starts until those in flight have settled
 * and the back-off has passed, so an outage costs one failed request per slot, not a storm.
 */
export async function replaySpool(
  client: SlsClient,
  spool: Spool,
  parallel: number | RequestConcurrency,
  signal: AbortSignal,
  hooks: ReplayHooks,
): Promise<void> {
  const gate = typeof parallel === 'number' ? undefined : parallel;
  const width = (): number => Math.max(1, Math.min(typeof parallel === 'number' ? parallel : parallel.limit, SPOOL_PRELOAD));
  const inFlight = new Map<number, Promise<void>>();
  let failure: SlsError | undefined;
  let unexpected: unknown;
  let failures = 0;

  const send = async (entry: SpoolEntry): Promise<void> => {
    const release: Release = gate ? await gate.acquire() : () => {};
    const route = entry.hashKey ? { hashKey: entry.hashKey } : {};
    try {
      await reportedRequest(release, (onRetry) => client.putLogs(entry.logstore, entry.payload, { signal, ...route, onRetry }));
      await spool.remove(entry.id);
      hooks.shipped(entry);
    } catch (err) {
      if (err instanceof SlsError) {
        if (!(await hooks.putAside(entry, err))) failure ??= err;
      } else unexpected ??= err;
    } finally {
      inFlight.delete(entry.id);
    }
  };

  while (!hooks.closed()) {
    if (unexpected !== undefined && inFlight.size === 0) throw unexpected;
    if (failure === undefined && unexpected === undefined) {
      const n = width();
      for (const entry of spool.front(n)) {
        if (inFlight.size >= n) break;
        if (!inFlight.has(entry.id)) inFlight.set(entry.id, send(entry));
      }
    }
    if (inFlight.size > 0) {
      await Promise.race(inFlight.values());
      if (failure === undefined) failures = 0;
      continue;
    }
    if (failure === undefined) return; // spool empty
    if (hooks.closed()) return;
    hooks.failed(failure);
    failure = undefined;
    await hooks.backOff(failures++);
  }
  await Promise.allSettled(inFlight.values());
}
