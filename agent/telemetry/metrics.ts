// The agent's Prometheus metrics: one registry, every counter the status line and /metrics report.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

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
  readonly checkpointLag = new Gauge({ name: 'logseal_checkpoint_lag_bytes', help: 'Bytes read but not yet checkpointed, all files', registers: [this.registry] });
  readonly dataKeyAge = new Gauge({ name: 'logseal_data_key_age_seconds', help: 'Age of the data key in use', registers: [this.registry] });
  readonly keyUnavailable = new Gauge({ name: 'logseal_data_key_unavailable', help: '1 while no usable data key can be had (the agent holds its data)', registers: [this.registry] });

  constructor(withProcessMetrics = true) {
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'logseal_' });
  }
}
