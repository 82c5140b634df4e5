// The real agent (`logseal run`) as a child process: its config, its metrics endpoint, and its CPU and memory from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { EmulatorEndpoints } from './emulator.js';
import { cpuSeconds, memory, threadCpu, type Memory, type ThreadCpu } from './proc.js';

export type Algorithm = 'AES_256_GCM' | 'SM4_128_GCM';
export type Mode = 'group' | 'log';

export interface AgentSettings {
  algorithm: Algorithm;
  mode: Mode;
  cmk: string;
  project: string;
  logstore: string;
  /** Globs of the files to ship, all read from the beginning. */
  paths: string[];
  stateDir: string;
  batchBytes: string;
  maxLogs: number;
  linger: string;
  /** Sealing threads; the agent's default (one per core) when absent. */
  threads?: number;
  maxInFlight: number;
  /** sls.concurrency; the agent's default (adaptive) when absent. */
  concurrency?: 'adaptive' | 'fixed';
  shardCount: number;
  rotateMaxAge: string;
}

/** Writes the agent's YAML config for `settings` against the emulators; returns its path. */
export function writeAgentConfig(file: string, e: EmulatorEndpoints, s: AgentSettings): string {
  const config = {
    sls: {
      endpoint: e.sls,
      project: s.project,
      logstore: s.logstore,
      accessKeyId: e.accessKeyId,
      accessKeySecret: e.accessKeySecret,
      compress: 'auto', // the agent's default: no body compression for sealed LZ4 groups
      maxInFlight: s.maxInFlight,
      ...(s.concurrency ? { concurrency: s.concurrency } : {}),
      timeout: '30s',
      // The logs arrive sealed; encryption at rest in the emulator would only add emulator CPU on a shared machine.
      createLogstore: { ttl: 7, shardCount: s.shardCount },
    },
    kms: { endpoint: e.kms, regionId: 'cn-hangzhou', cmk: s.cmk },
    seal: { algorithm: s.algorithm, mode: s.mode, zip: 'lz4', ...(s.threads ? { threads: s.threads } : {}), rotate: { maxAge: s.rotateMaxAge } },
    batch: { maxBytes: s.batchBytes, maxLogs: s.maxLogs, linger: s.linger },
    inputs: [{ paths: s.paths, topic: 'bench', startAt: 'beginning', tags: { env: 'bench' } }],
    stateDir: s.stateDir,
    drain: { timeout: '30s' },
    metrics: { listen: '127.0.0.1:0' },
    log: { level: 'info' },
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}

/** Counter and gauge values by metric name, labelled series summed. */
export type MetricValues = Map<string, number>;

export function parsePrometheus(text: string): MetricValues {
  const out: MetricValues = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[3]));
  }
  return out;
}

export class AgentProcess {
  private metricsBase: string | undefined;
  readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly stderr: () => string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Spawns `node [nodeArgs] <cli> run -c <config>` and waits until it says where its metrics are. */
  static async start(cliPath: string, configFile: string, nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<AgentProcess> {
    const child = spawn(process.execPath, [...nodeArgs, cliPath, 'run', '-c', configFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: path.dirname(configFile),
      env: { ...process.env, ...env },
    });
    let err = '';
    let metricsUrl: string | undefined;
    let pending = '';
    child.stderr!.on('data', (b: Buffer) => {
      const text = b.toString();
      err = (err + text).slice(-20_000);
      if (metricsUrl) return;
      pending += text;
      for (const line of pending.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const url = (JSON.parse(line) as { url?: unknown }).url;
          if (typeof url === 'string') metricsUrl = url;
        } catch {
          // a partial line; the rest arrives with the next chunk
        }
      }
      pending = pending.slice(pending.lastIndexOf('\n') + 1);
    });
    const agent = new AgentProcess(child, () => err);
    const deadline = Date.now() + 30_000;
    while (!metricsUrl) {
      if (child.exitCode !== null) throw new Error(`the agent exited with ${child.exitCode}: ${agent.lastLogLine()}`);
      if (Date.now() > deadline) throw new Error(`the agent did not report its metrics address within 30 s: ${agent.lastLogLine()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    agent.metricsBase = metricsUrl.replace(/\/$/, '');
    return agent;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async metrics(): Promise<MetricValues> {
    const res = await fetch(`${this.metricsBase}/metrics`).catch((e: Error) => {
      const exited = this.child.exitCode !== null ? `the agent exited with ${this.child.exitCode}` : 'the agent is running';
      throw new Error(`GET /metrics: ${e.message} (${exited}; its last log line: ${this.lastLogLine()})`);
    });
    if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
    return parsePrometheus(await res.text());
  }

  cpuSeconds(): number {
    return cpuSeconds(this.pid);
  }

  memory(): Memory {
    return memory(this.pid);
  }

  threads(): ThreadCpu[] {
    return threadCpu(this.pid);
  }

  /** SIGTERM (drain, then exit) and the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** Kills the agent without draining, for clean-up after a failed run. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** The agent's own log lines at warn level and above, for the report when something went wrong. */
  problems(): string[] {
    return this.stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          const r = JSON.parse(l) as { level?: number; msg?: string; code?: string };
          return (r.level ?? 0) >= 40 ? [`${r.msg ?? ''}${r.code ? ` (${r.code})` : ''}`] : [];
        } catch {
          return [];
        }
      });
  }

  /** The last log line; for a crash (Node's own last line names its version), the error lines above it too. */
  lastLogLine(): string {
    const lines = this.stderr().trim().split('\n');
    const last = lines.pop() ?? '';
    if (!last.startsWith('Node.js v')) return last;
    const thrown = lines.filter((l) => l.trim() !== '' && !l.startsWith('{')).slice(-12);
    return `${thrown.join(' | ')} | ${last}`;
  }
}
