// `logseal run -c FILE`: the daemon, with signals, metrics, health and the terminal status line.
import { loadConfig, type Config } from '../../config/index.js';
import { Agent } from '../../pipeline/agent.js';
import { startTelemetryServer, type TelemetryServer } from '../../telemetry/http.js';
import { createLogger, type Logger } from '../../telemetry/logger.js';
import { AgentMetrics } from '../../telemetry/metrics.js';
import { startStatusLine } from '../../telemetry/status-line.js';

export interface RunningAgent {
  agent(): Agent;
  /** Resolves when the agent has stopped for good. */
  done: Promise<void>;
  stop(): Promise<void>;
  metricsUrl?: string;
}

/** Starts the agent with SIGTERM/SIGINT (drain and exit 0) and SIGHUP (reload) handling. */
export async function runAgent(configPath: string, o: { log?: Logger; installSignals?: boolean } = {}): Promise<RunningAgent> {
  let config: Config = await loadConfig(configPath);
  const log = o.log ?? createLogger(config.log.level);
  const metrics = new AgentMetrics();
  let agent = await Agent.start(config, log, metrics);
  let telemetry: TelemetryServer | undefined;
  if (config.metrics.listen !== false) {
    const { host, port } = config.metrics.listen;
    telemetry = await startTelemetryServer(`${host.includes(':') ? `[${host}]` : host}:${port}`, metrics.registry, () => {
      const s = agent.status();
      return { ok: s.state === 'running', ...s };
    });
    log.info({ url: telemetry.url }, 'metrics at /metrics, health at /healthz');
  }
  const stopStatus = startStatusLine(process.stderr, () => {
    const s = agent.status();
    return {
      linesShipped: s.linesShipped,
      bytesRead: s.bytesRead,
      inFlight: s.inFlight,
      spoolBytes: s.spoolBytes,
      ...(s.key.keyAgeMs !== undefined ? { keyAgeMs: s.key.keyAgeMs } : {}),
      keyState: s.holdingReason ? 'holding' : s.key.state,
    };
  });

  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  let stopping: Promise<void> | undefined;
  let reloading: Promise<void> = Promise.resolve();

  const stop = () =>
    (stopping ??= (async () => {
      await reloading;
      log.info('stopping: draining what was read');
      stopStatus();
      await agent.stop();
      await telemetry?.close();
      finish();
    })());

  const reload = () => {
    reloading = reloading.then(async () => {
      if (stopping) return;
      let next: Config;
      try {
        next = await loadConfig(configPath);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'reload refused: the new config is not valid; keeping the running one');
        return;
      }
      log.info('reloading config: draining, then restarting from the checkpoints');
      await agent.stop();
      config = next;
      try {
        agent = await Agent.start(config, log, metrics);
      } catch (err) {
        // Nothing is lost (checkpoints were saved by the drain), but there is no agent left to run: exit non-zero
        // so the service manager restarts us and the operator sees why.
        log.fatal({ err: (err as Error).message }, 'reload failed: could not start with the new config');
        process.exitCode = 1;
        stopping = Promise.resolve();
        stopStatus();
        await telemetry?.close();
        finish();
      }
    });
  };

  if (o.installSignals !== false) {
    process.on('SIGTERM', () => void stop());
    process.on('SIGINT', () => void stop());
    process.on('SIGHUP', reload);
  }
  return { agent: () => agent, done, stop, ...(telemetry ? { metricsUrl: telemetry.url } : {}) };
}

export async function runDaemon(configPath: string): Promise<void> {
  const running = await runAgent(configPath);
  await running.done;
}
