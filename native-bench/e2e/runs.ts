// One benchmark run of the real agent against a fresh emulator: idle, full-speed throughput, and SLS refusing writes.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AgentProcess, writeAgentConfig, type AgentSettings, type Algorithm, type MetricValues, type Mode } from './agent-process.js';
import { LineDigest, startLiveWriter, type Dataset } from './dataset.js';
import { EmulatorProcess } from './emulator.js';
import type { ThreadCpu } from './proc.js';

export interface RunPlan {
  cliPath: string;
  /** Scratch directory of this run (emulator data, agent state, config); removed afterwards. */
  workDir: string;
  dataset: Dataset;
  algorithm: Algorithm;
  mode: Mode;
  tuning: Pick<AgentSettings, 'batchBytes' | 'maxLogs' | 'linger' | 'threads' | 'maxInFlight' | 'concurrency' | 'shardCount' | 'rotateMaxAge'>;
  /** Added by the SLS emulator to every request (its latency fault): a far endpoint's round trip, on loopback. */
  slsLatencyMs?: number;
  /** Decrypt the Logstore afterwards with `logseal decrypt` and compare every line. */
  verify: boolean;
  /** Node flags for the agent process, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Extra environment for the agent process. */
  env?: Record<string, string>;
  deadlineMs: number;
  log: (line: string) => void;
  /** Runs once the dataset is shipped and the agent stopped, before the emulator goes (e.g. timing a reader). */
  afterShip?: (shipped: { emulator: EmulatorProcess; configFile: string; result: ThroughputResult }) => Promise<void>;
}

/** The main thread's V8 heap and off-heap (Buffer) memory, from the agent's own process metrics; worker isolates are not in it. */
export interface MainThreadMemory {
  maxHeapTotalBytes: number;
  maxHeapUsedBytes: number;
  maxExternalBytes: number;
}

export interface ThroughputResult {
  label: string;
  algorithm: Algorithm;
  mode: Mode;
  lines: number;
  bytes: number;
  wallSeconds: number;
  /** User + system seconds of the agent process (all threads), start-up included. */
  cpuSeconds: number;
  /** MB per CPU second between the first acknowledged batch and the last: start-up left out. */
  steadyMbPerCpuSecond: number;
  /** Where the CPU went, by thread (see threadShares); absent in results saved before it was measured. */
  threads?: ThreadShares;
  peakRssBytes: number;
  mainThread: MainThreadMemory;
  generateDataKeyCalls: number;
  /** GenerateDataKey calls the KMS emulator counted. */
  kmsGenerateDataKey: number;
  putLogs: number;
  batchesSealed: number;
  retries: number;
  /** The agent's PutLogs concurrency limit (logseal_sls_concurrency_limit) over the run's metric samples. */
  concurrencyLimit?: { mean: number; max: number };
  emulatorCpuSeconds: number;
  exitCode: number | null;
  verified?: VerifyResult;
  /** With --repeat: every round of this configuration (this result is the one with the least CPU). */
  rounds?: { cpuSeconds: number; steadyMbPerCpuSecond: number; wallSeconds: number }[];
}

export interface VerifyResult {
  ok: boolean;
  lines: number;
  digest: string;
  seconds: number;
}

export interface IdleResult {
  rssBytes: number;
  cpuSeconds: number;
}

export interface BackendDownResult {
  label: string;
  withBacklog: boolean;
  /** Lines and bytes shipped in all: the pre-written files and what the live writer appended. */
  lines: number;
  bytes: number;
  liveBytesPerSecond: number;
  downSeconds: number;
  /** One sample per poll (~200 ms) over the whole run. */
  samples: { t: number; rssBytes: number; spoolBytes: number; shipped: number; read: number; down: boolean }[];
  maxRssBeforeBytes: number;
  maxRssDownBytes: number;
  maxRssAfterBytes: number;
  peakRssBytes: number;
  mainThread: MainThreadMemory;
  maxSpoolBytes: number;
  bytesReadWhileDown: number;
  /** From writes allowed again until the spool is empty (its backlog replayed). */
  catchUpSeconds: number;
  wallSeconds: number;
  cpuSeconds: number;
  generateDataKeyCalls: number;
  rotateMaxAgeSeconds: number;
  refusedPutLogs: number;
  exitCode: number | null;
  verified?: VerifyResult;
}

export const labelOf = (algorithm: Algorithm, mode: Mode): string => `${algorithm === 'AES_256_GCM' ? 'AES' : 'SM4'} ${mode}`;

const POLL_MS = 200;
const metric = (m: MetricValues, name: string): number => m.get(name) ?? 0;

export interface Prepared {
  emulator: EmulatorProcess;
  configFile: string;
  cleanup: () => Promise<void>;
}

export async function prepare(plan: RunPlan, name: string, o: { rotateMaxAge?: string; paths?: string[] } = {}): Promise<Prepared> {
  const dir = path.join(plan.workDir, name);
  mkdirSync(dir, { recursive: true });
  const emulator = await EmulatorProcess.start(plan.cliPath, path.join(dir, 'emulator'));
  try {
    const cmk = await emulator.createKey(plan.algorithm === 'AES_256_GCM' ? 'Aliyun_AES_256' : 'Aliyun_SM4');
    if (plan.slsLatencyMs) await emulator.setSlsFaults({ latencyMs: plan.slsLatencyMs });
    const configFile = writeAgentConfig(path.join(dir, 'logseal.yaml'), emulator.endpoints, {
      algorithm: plan.algorithm,
      mode: plan.mode,
      cmk,
      project: 'bench-e2e',
      logstore: name.replace(/[^a-z0-9_-]/g, '-'),
      paths: o.paths ?? [path.join(plan.dataset.dir, '*.log')],
      stateDir: path.join(dir, 'state'),
      ...plan.tuning,
      rotateMaxAge: o.rotateMaxAge ?? plan.tuning.rotateMaxAge,
    });
    return {
      emulator,
      configFile,
      cleanup: async () => {
        await emulator.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await emulator.stop();
    throw err;
  }
}

class MemoryWatch {
  readonly max: MainThreadMemory = { maxHeapTotalBytes: 0, maxHeapUsedBytes: 0, maxExternalBytes: 0 };
  sample(m: MetricValues): void {
    this.max.maxHeapTotalBytes = Math.max(this.max.maxHeapTotalBytes, metric(m, 'logseal_nodejs_heap_size_total_bytes'));
    this.max.maxHeapUsedBytes = Math.max(this.max.maxHeapUsedBytes, metric(m, 'logseal_nodejs_heap_size_used_bytes'));
    this.max.maxExternalBytes = Math.max(this.max.maxExternalBytes, metric(m, 'logseal_nodejs_external_memory_bytes'));
  }
}

/**
 * Polls the agent's metrics until `target()` lines are acknowledged. `target` returns undefined while the number
 * is not known yet (a writer still appending).
 */
export async function waitUntilShipped(
  agent: AgentProcess,
  plan: RunPlan,
  target: () => number | undefined,
  onSample?: (m: MetricValues, now: number) => Promise<void> | void,
): Promise<void> {
  const deadline = Date.now() + plan.deadlineMs;
  let lastLog = Date.now();
  for (;;) {
    const m = await agent.metrics();
    const shipped = metric(m, 'logseal_lines_shipped_total');
    await onSample?.(m, performance.now());
    const want = target();
    if (want !== undefined && shipped >= want) return;
    if (Date.now() > deadline) {
      throw new Error(`only ${shipped} of ${want ?? '?'} lines shipped after ${plan.deadlineMs / 1000} s; agent said: ${agent.problems().slice(-3).join(' / ') || agent.lastLogLine()}`);
    }
    if (Date.now() - lastLog > 10_000) {
      plan.log(`    … ${shipped} lines acknowledged${want ? ` (${((100 * shipped) / want).toFixed(0)}%)` : ''}`);
      lastLog = Date.now();
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** CPU seconds by kind of thread; the kinds are inferred from creation order and load (proc.ts threadCpu). */
export interface ThreadShares {
  main: number;
  /** V8's four platform threads: concurrent garbage collection and compilation. */
  v8Helpers: number;
  /** The `seal.threads` busiest remaining threads. */
  sealWorkers: number[];
  /** Everything else: the libuv pool (file reads, DNS) and idle threads. */
  other: number;
}

function threadShares(threads: ThreadCpu[], sealThreads = os.availableParallelism()): ThreadShares {
  sealThreads = Math.max(1, sealThreads);
  const [main, ...rest] = threads;
  const v8 = rest.slice(0, 4);
  const later = rest.slice(4).sort((a, b) => b.cpuSeconds - a.cpuSeconds);
  const sum = (xs: ThreadCpu[]) => xs.reduce((n, x) => n + x.cpuSeconds, 0);
  return {
    main: main?.cpuSeconds ?? 0,
    v8Helpers: sum(v8),
    sealWorkers: later.slice(0, sealThreads).map((x) => x.cpuSeconds),
    other: sum(later.slice(sealThreads)),
  };
}

/** Ships the whole dataset once and measures the agent from spawn to the last acknowledged line. */
export async function throughputRun(plan: RunPlan, name: string): Promise<ThroughputResult> {
  const run = await prepare(plan, name);
  let agent: AgentProcess | undefined;
  try {
    const t0 = performance.now();
    agent = await AgentProcess.start(plan.cliPath, run.configFile, plan.nodeArgs, plan.env);
    const a = agent;
    const memory = new MemoryWatch();
    let first: { cpu: number; shipped: number } | undefined;
    const limits: number[] = [];
    await waitUntilShipped(a, plan, () => plan.dataset.lines, (m) => {
      memory.sample(m);
      if (m.has('logseal_sls_concurrency_limit')) limits.push(metric(m, 'logseal_sls_concurrency_limit'));
      const shipped = metric(m, 'logseal_lines_shipped_total');
      if (!first && shipped > 0) first = { cpu: a.cpuSeconds(), shipped };
    });
    const wallSeconds = (performance.now() - t0) / 1000;
    // Read before SIGTERM: the process is gone afterwards, and draining is not part of the throughput.
    const cpuSeconds = a.cpuSeconds();
    const threads = a.threads();
    const mem = a.memory();
    const m = await a.metrics();
    const sls = await run.emulator.slsStats();
    const kms = await run.emulator.kmsStats();
    const exitCode = await a.stop();
    const { lines, bytes } = plan.dataset;
    const steadyBytes = first ? (bytes * (lines - first.shipped)) / lines : bytes;
    const steadyCpu = first ? cpuSeconds - first.cpu : cpuSeconds;
    const result: ThroughputResult = {
      label: labelOf(plan.algorithm, plan.mode),
      algorithm: plan.algorithm,
      mode: plan.mode,
      lines,
      bytes,
      wallSeconds,
      cpuSeconds,
      steadyMbPerCpuSecond: steadyBytes / 1e6 / steadyCpu,
      threads: threadShares(threads, plan.tuning.threads),
      peakRssBytes: mem.peakRssBytes,
      mainThread: memory.max,
      generateDataKeyCalls: metric(m, 'logseal_kms_generate_data_key_total'),
      kmsGenerateDataKey: kms.byAction['GenerateDataKey'] ?? 0,
      putLogs: sls.putLogs,
      batchesSealed: metric(m, 'logseal_batches_sealed_total'),
      retries: metric(m, 'logseal_retries_total'),
      ...(limits.length > 0 ? { concurrencyLimit: { mean: limits.reduce((a, b) => a + b, 0) / limits.length, max: Math.max(...limits) } } : {}),
      emulatorCpuSeconds: run.emulator.cpuSeconds(),
      exitCode,
    };
    if (plan.verify) result.verified = await verifyLogstore(plan, run.configFile, plan.dataset.digest);
    await plan.afterShip?.({ emulator: run.emulator, configFile: run.configFile, result });
    return result;
  } finally {
    agent?.kill();
    await run.cleanup();
  }
}

/** The agent with nothing to read, after `settleMs`: its fixed memory (main thread plus seal workers) and start-up CPU. */
export async function idleRun(plan: RunPlan, name: string, settleMs = 3000): Promise<IdleResult> {
  const empty = path.join(plan.workDir, `${name}-no-logs`);
  mkdirSync(empty, { recursive: true });
  const run = await prepare(plan, name, { paths: [path.join(empty, '*.log')] });
  let agent: AgentProcess | undefined;
  try {
    agent = await AgentProcess.start(plan.cliPath, run.configFile, plan.nodeArgs, plan.env);
    await new Promise((r) => setTimeout(r, settleMs));
    const result = { rssBytes: agent.memory().rssBytes, cpuSeconds: agent.cpuSeconds() };
    await agent.stop();
    return result;
  } finally {
    agent?.kill();
    await run.cleanup();
    rmSync(empty, { recursive: true, force: true });
  }
}

export interface BackendDownOptions {
  downSeconds: number;
  rotateMaxAge: string;
  rotateMaxAgeSeconds: number;
  /** A live file keeps growing at this rate for the whole run, so sealing (and key use) never pauses. */
  liveBytesPerSecond: number;
  /** How long the writer goes on after SLS is back. */
  tailSeconds: number;
  /** Ship the dataset's files too (read at full speed while SLS is down), not only the live file. */
  withBacklog: boolean;
}

/**
 * A live file being appended to, with or without the dataset's files as a backlog. SLS refuses every PutLogs for `downSeconds` once the first batch
 * is acknowledged, then accepts again; the writer stops `tailSeconds` later and the run ends when every line is
 * acknowledged. The agent's RSS and spool are sampled throughout.
 */
export async function backendDownRun(plan: RunPlan, name: string, o: BackendDownOptions): Promise<BackendDownResult> {
  const liveDir = path.join(plan.workDir, `${name}-live`);
  mkdirSync(liveDir, { recursive: true });
  const liveFile = path.join(liveDir, 'live.log');
  writeFileSync(liveFile, '');
  const backlog = o.withBacklog ? { lines: plan.dataset.lines, bytes: plan.dataset.bytes, digest: plan.dataset.digest } : { lines: 0, bytes: 0, digest: new LineDigest().value() };
  const paths = [...(o.withBacklog ? [path.join(plan.dataset.dir, '*.log')] : []), path.join(liveDir, '*.log')];
  const run = await prepare(plan, name, { rotateMaxAge: o.rotateMaxAge, paths });
  const writer = startLiveWriter(liveFile, o.liveBytesPerSecond, 4242);
  let written: ReturnType<typeof writer.stop> | undefined;
  let agent: AgentProcess | undefined;
  try {
    const t0 = performance.now();
    agent = await AgentProcess.start(plan.cliPath, run.configFile, plan.nodeArgs, plan.env);
    const a = agent;
    const memory = new MemoryWatch();
    const samples: BackendDownResult['samples'] = [];
    let downAt: number | undefined, upAt: number | undefined, caughtUpAt: number | undefined;
    let readAtDown = 0, readAtUp = 0;
    await waitUntilShipped(a, { ...plan, deadlineMs: plan.deadlineMs + (o.downSeconds + o.tailSeconds) * 1000 }, () => (written ? backlog.lines + written.lines : undefined), async (m, now) => {
      memory.sample(m);
      const shipped = metric(m, 'logseal_lines_shipped_total');
      const read = metric(m, 'logseal_bytes_read_total');
      const spool = metric(m, 'logseal_spool_bytes');
      if (downAt === undefined && shipped > 0) {
        await run.emulator.setSlsFaults({ refuseWrites: true });
        downAt = now;
        readAtDown = read;
        plan.log(`    SLS refuses writes now (${shipped} lines acknowledged), for ${o.downSeconds} s`);
      } else if (downAt !== undefined && upAt === undefined && now - downAt >= o.downSeconds * 1000) {
        await run.emulator.setSlsFaults({});
        upAt = now;
        readAtUp = read;
        plan.log(`    SLS accepts writes again; ${shipped} lines acknowledged, spool ${(spool / 1e6).toFixed(0)} MB`);
      } else if (upAt !== undefined && caughtUpAt === undefined && spool === 0) {
        caughtUpAt = now;
      }
      if (upAt !== undefined && !written && now - upAt >= o.tailSeconds * 1000) written = writer.stop();
      samples.push({ t: (now - t0) / 1000, rssBytes: a.memory().rssBytes, spoolBytes: spool, shipped, read, down: downAt !== undefined && upAt === undefined });
    });
    const end = performance.now();
    const cpuSeconds = a.cpuSeconds();
    const mem = a.memory();
    const m = await a.metrics();
    const sls = await run.emulator.slsStats();
    const exitCode = await a.stop();
    const rssMax = (keep: (t: number) => boolean): number => Math.max(0, ...samples.filter((s) => keep(s.t * 1000 + t0)).map((s) => s.rssBytes));
    const live = written!;
    const result: BackendDownResult = {
      label: labelOf(plan.algorithm, plan.mode),
      withBacklog: o.withBacklog,
      lines: backlog.lines + live.lines,
      bytes: backlog.bytes + live.bytes,
      liveBytesPerSecond: o.liveBytesPerSecond,
      downSeconds: o.downSeconds,
      samples,
      maxRssBeforeBytes: rssMax((t) => t < (downAt ?? Infinity)),
      maxRssDownBytes: rssMax((t) => t >= downAt! && t < upAt!),
      maxRssAfterBytes: rssMax((t) => t >= upAt!),
      peakRssBytes: mem.peakRssBytes,
      mainThread: memory.max,
      maxSpoolBytes: Math.max(0, ...samples.map((s) => s.spoolBytes)),
      bytesReadWhileDown: readAtUp - readAtDown,
      catchUpSeconds: ((caughtUpAt ?? end) - upAt!) / 1000,
      wallSeconds: (end - t0) / 1000,
      cpuSeconds,
      generateDataKeyCalls: metric(m, 'logseal_kms_generate_data_key_total'),
      rotateMaxAgeSeconds: o.rotateMaxAgeSeconds,
      refusedPutLogs: Object.values(sls.rejected).reduce((x, y) => x + y, 0),
      exitCode,
    };
    if (plan.verify) result.verified = await verifyLogstore(plan, run.configFile, LineDigest.combine(backlog.digest, live.digest));
    return result;
  } finally {
    if (!written) writer.stop();
    agent?.kill();
    await run.cleanup();
    rmSync(liveDir, { recursive: true, force: true });
  }
}

/** `logseal decrypt -c <config>`: every line must come back exactly once and unaltered (order aside). */
async function verifyLogstore(plan: RunPlan, configFile: string, expected: string): Promise<VerifyResult> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [plan.cliPath, 'decrypt', '-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const digest = new LineDigest();
  let lines = 0;
  for await (const line of createInterface({ input: child.stdout! })) {
    const record = JSON.parse(line) as { contents: Record<string, string> };
    digest.add(record.contents['content'] ?? '');
    lines++;
  }
  const code = await exited;
  if (code !== 0) throw new Error(`logseal decrypt exited with ${code}: ${err.trim().split('\n').pop() ?? ''}`);
  const value = digest.value();
  return { ok: value === expected, lines, digest: value, seconds: (performance.now() - t0) / 1000 };
}
