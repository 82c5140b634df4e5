// Gauges computed when /metrics is scraped: they read the agent's state then, with no timer behind them.
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../agent/telemetry/metrics.js';

describe('AgentMetrics', () => {
  it('reads checkpoint lag and data key age from the agent when scraped', async () => {
    const metrics = new AgentMetrics(false);
    let lag = 10;
    let age: number | undefined;
    metrics.observeAgent({ checkpointLagBytes: () => lag, dataKeyAgeSeconds: () => age });
    let text = await metrics.registry.metrics();
    expect(text).toMatch(/^logseal_checkpoint_lag_bytes 10$/m);
    expect(text).toMatch(/^logseal_data_key_age_seconds 0$/m); // no key yet: the gauge's initial 0
    lag = 0;
    age = 42.5;
    text = await metrics.registry.metrics();
    expect(text).toMatch(/^logseal_checkpoint_lag_bytes 0$/m);
    expect(text).toMatch(/^logseal_data_key_age_seconds 42.5$/m);
  });
});
