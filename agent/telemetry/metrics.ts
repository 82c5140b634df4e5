// The agent's Prometheus metrics: one registry, every counter the status line and /metrics report.
// prom-client's parts one by one, not its index: that also loads the cluster aggregator and the Pushgateway, which
// bring Node's cluster, child_process, https and zlib modules into every agent (prom-client-parts.d.ts).
import Counter from 'prom-client/lib/counter.js';
import collectDefaultMetrics from 'prom-client/lib/defaultMetrics.js';
import Gauge from 'prom-client/lib/gauge.js';
import Registry from 'prom-client/lib/registry.js';
import type { InputStats } from '../input/index.js';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly linesRead = new Counter({ name: 'logseal_lines_read_total', help: 'Log entries read from input files', registers: [this.registry] });
  readonly bytesRead = new Counter({ name: 'logseal_bytes_read_total', help: 'Bytes of log files read and handed to the batcher, newlines included', registers: [this.registry] });
  readonly batchesSealed = new Counter({ name: 'logseal_batches_sealed_total', help: 'Batches sealed', labelNames: ['algorithm'], registers: [this.registry] });
  readonly linesShipped = new Counter({ name: 'logseal_lines_shipped_total', help: 'Log entries acknowledged by SLS', registers: [this.registry] });
  readonly bytesShipped = new Counter({ name: 'logseal_bytes_shipped_total', help: 'Request body bytes acknowledged by SLS', registers: [this.registry] });
  readonly kmsCalls = new Counter({ name: 'logseal_kms_generate_data_key_total', help: 'GenerateDataKey calls', registers: [this.registry] });
  readonly linesResent = new Counter({
    name: 'logseal_lines_resent_total',
    help:
      'Lines read again after a restart that the previous run may have sent already (at-least-once delivery): lines ' +
      'read below the position the previous run had read up to when it last saved its checkpoint. An estimate: some ' +
      'of those lines were still being sealed, and lines read after that save are not known',
    registers: [this.registry],
  });
  readonly retries = new Counter({ name: 'logseal_retries_total', help: 'Failed requests that are retried (or spooled for replay), by service and error code (the SLS errorCode, or the transport failure such as RequestTimeout)', labelNames: ['service', 'code'], registers: [this.registry] });
  readonly spoolBytes = new Gauge({ name: 'logseal_spool_bytes', help: 'Bytes of sealed batches waiting in the disk spool (entry files, headers included)', registers: [this.registry] });
  readonly spoolEntries = new Gauge({ name: 'logseal_spool_entries', help: 'Sealed batches waiting in the disk spool', registers: [this.registry] });
  readonly inFlight = new Gauge({ name: 'logseal_batches_in_flight', help: 'Batches read but not yet acknowledged or spooled', registers: [this.registry] });
  // Computed when scraped rather than on a timer, so an idle agent does no work for them.
  readonly checkpointLag: Gauge = new Gauge({
    name: 'logseal_checkpoint_lag_bytes',
    help: 'Bytes read but not yet checkpointed, all files',
    registers: [this.registry],
    collect: (): void => this.checkpointLag.set(this.agentGauges.checkpointLagBytes()),
  });
  readonly dataKeyAge: Gauge = new Gauge({
    name: 'logseal_data_key_age_seconds',
    help: 'Age of the data key in use (the oldest, with several outputs)',
    registers: [this.registry],
    collect: (): void => {
      const seconds = this.agentGauges.dataKeyAgeSeconds();
      if (seconds !== undefined) this.dataKeyAge.set(seconds);
    },
  });
  readonly concurrencyLimit: Gauge = new Gauge({
    name: 'logseal_sls_concurrency_limit',
    help: 'PutLogs requests of new batches allowed at once now (sls.concurrency: adaptive moves it between 1 and sls.maxInFlight)',
    registers: [this.registry],
    collect: (): void => {
      const limit = this.concurrency();
      if (limit !== undefined) this.concurrencyLimit.set(limit);
    },
  });
  readonly deadLetterBatches = new Counter({ name: 'logseal_dead_letter_batches_total', help: 'Sealed batches SLS refused for good, written to the dead-letter directory, by error code', labelNames: ['code'], registers: [this.registry] });
  readonly deadLetterBytes = new Counter({ name: 'logseal_dead_letter_bytes_total', help: 'Bytes written to the dead-letter directory, by error code', labelNames: ['code'], registers: [this.registry] });
  readonly deadLetterDropped = new Counter({ name: 'logseal_dead_letter_dropped_total', help: 'Batches SLS refused for good that did not fit in deadLetter.maxBytes and were dropped, by error code', labelNames: ['code'], registers: [this.registry] });
  readonly deadLetterLines = new Counter({ name: 'logseal_dead_letter_lines_total', help: 'Log entries in batches SLS refused for good (kept or dropped)', registers: [this.registry] });
  readonly keyUnavailable = new Gauge({ name: 'logseal_data_key_unavailable', help: '1 while no usable data key can be had (the agent holds its data)', registers: [this.registry] });

  /** Per configured input (label `input` = its index in `inputs`), read from the input at each scrape. */
  private inputStats: () => InputStats[] = () => [];
  readonly malformedLines = inputCounter(
    this.registry,
    'logseal_input_malformed_lines_total',
    'Container log lines in neither the CRI nor the Docker format, shipped as they were',
    () => this.inputStats().map((s) => s.malformedLines),
  );
  readonly rateLimited = inputCounter(
    this.registry,
    'logseal_input_rate_limited_seconds_total',
    'Time reading an input was paused by its rateLimit',
    () => this.inputStats().map((s) => s.rateLimitedMs / 1000),
  );

  private concurrency: () => number | undefined = () => undefined;

  /** Where the PutLogs concurrency limit is read from when scraped. */
  observeConcurrency(limit: () => number): void {
    this.concurrency = limit;
  }

  observeInputs(stats: () => InputStats[]): void {
    this.inputStats = stats;
  }

  private agentGauges: AgentGauges = {
    checkpointLagBytes: () => 0,
    dataKeyAgeSeconds: () => undefined,
  };

  /** Where the checkpoint lag and the data key age are read from when scraped. */
  observeAgent(gauges: AgentGauges): void {
    this.agentGauges = gauges;
  }

  constructor(withProcessMetrics = true) {
    // The event-loop lag histogram samples every 100 ms rather than prom-client's 10: an idle agent then wakes 10 times a
    // second for it instead of 100, and lag worth alerting on is far longer than that anyway.
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'logseal_', eventLoopMonitoringPrecision: 100 });
  }
}

/** The agent's state behind gauges that are computed when scraped. */
export interface AgentGauges {
  checkpointLagBytes: () => number;
  dataKeyAgeSeconds: () => number | undefined;
}

/** A counter kept by the input itself: copied in when scraped. */
function inputCounter(registry: Registry, name: string, help: string, values: () => number[]): Counter<'input'> {
  return new Counter({
    name,
    help,
    labelNames: ['input'],
    registers: [registry],
    collect() {
      this.reset();
      values().forEach((v, i) => this.inc({ input: String(i) }, v));
    },
  });
}
