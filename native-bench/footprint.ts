// Footprint benchmark: the real agent idle, starting up, and shipping a fixed 10 MB/s of 512-byte lines, measured the
// way log agents are compared (CPU % of one core, mean RSS), next to bare Node with two worker threads in the same run.
// The agent's /metrics are scraped every 5 s during the fixed rate (its CPU and RSS are read from /proc every second);
// then, with nothing more to read, what it holds after `--after-seconds`.
// Run: npx tsx native-bench/footprint.ts [--seconds 60] [--rate 10MB] [--line-bytes 512] [--algorithm aes|sm4]
//      [--idle-seconds 10] [--after-seconds 30] [--json FILE] [--node-args=--max-semi-space-size=1] [--concurrency fixed]
//      [--lines padded|mixed]
// `--lines padded` (the default) pads a timestamp and a counter with 'x' to the line size: lz4 shrinks such batches
// ~45×, so sealing, the body's MD5 and HTTP see little. `--lines mixed` fills each line with the e2e benchmark's
// generated access, application, JSON and stack-trace lines (dataset.ts), which lz4 shrinks ~3.5×, as it does real logs.
// Build the agent first: npx tsc -p tsconfig.json (the agent runs from dist/). MB = 10^6 bytes of log text on disk.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AgentProcess, type Algorithm } from './e2e/agent-process.js';
import { machine, parseSize, repoRoot, revision } from './e2e/bench-env.js';
import { LineDigest, LineSource, type Dataset } from './e2e/dataset.js';
import { memory, type ThreadCpu } from './e2e/proc.js';
import { prepare, waitUntilShipped, type RunPlan } from './e2e/runs.js';

const MB = 1e6;
const MiB = 2 ** 20;
const TARGETS = { fixedRateCpuPercent: 4, fixedRateMeanRssMiB: 64, idleRssMiB: 60, idleCpuPercent: 0.5, startupCpuSeconds: 0.25 };

const { values: args } = (() => {
  try {
    return parseArgs({
      options: {
        seconds: { type: 'string', default: '60' },
        rate: { type: 'string', default: '10MB' },
        'line-bytes': { type: 'string', default: '512' },
        algorithm: { type: 'string', default: 'aes' },
        'idle-seconds': { type: 'string', default: '10' },
        'after-seconds': { type: 'string', default: '30' },
        json: { type: 'string' },
        'node-args': { type: 'string' },
        concurrency: { type: 'string' },
        lines: { type: 'string', default: 'padded' },
      },
    });
  } catch (e) {
    process.stderr.write(`footprint: ${(e as Error).message}\n`);
    process.exit(64);
  }
})();

if (args.concurrency !== undefined && args.concurrency !== 'adaptive' && args.concurrency !== 'fixed') {
  process.stderr.write(`footprint: --concurrency: expected adaptive or fixed, got "${args.concurrency}"\n`);
  process.exit(64);
}

if (args.lines !== 'padded' && args.lines !== 'mixed') {
  process.stderr.write(`footprint: --lines: expected padded or mixed, got "${args.lines}"\n`);
  process.exit(64);
}

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`footprint: --${name}: expected a positive number, got "${raw}"\n`);
    process.exit(64);
  }
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The body of line `i`, `chars` ASCII characters long: padded with 'x', or filled from generated log lines. */
function lineFiller(kind: 'padded' | 'mixed'): (i: number, chars: number) => string {
  if (kind === 'padded') {
    return (i, chars) => {
      const head = `${new Date().toISOString()} INFO req=${i} `;
      return head + 'x'.repeat(Math.max(0, chars - head.length));
    };
  }
  const source = new LineSource(1);
  let pending = '';
  return (_i, chars) => {
    while (pending.length < chars) {
      const next = source.next();
      if (next.bytes === next.text.length + 1) pending += pending ? ` ${next.text}` : next.text; // ASCII lines only: chars = bytes
    }
    const text = pending.slice(0, chars);
    pending = pending.slice(chars);
    return text;
  };
}

/** Appends lines of exactly `lineBytes` bytes (newline included) at `bytesPerSecond`, every 100 ms. */
function startFixedWriter(file: string, bytesPerSecond: number, lineBytes: number, kind: 'padded' | 'mixed') {
  const digest = new LineDigest();
  const fill = lineFiller(kind);
  let lines = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor((((performance.now() - started) / 1000) * bytesPerSecond) / lineBytes);
    const parts: string[] = [];
    for (; lines < due; lines++) {
      const text = fill(lines, lineBytes - 1);
      digest.add(text);
      parts.push(text);
    }
    if (parts.length) appendFileSync(file, `${parts.join('\n')}\n`);
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return { lines, bytes: lines * lineBytes, digest: digest.value() };
    },
  };
}

/** Bare Node with two idle worker threads: the floor any Node agent with a worker pool starts from. */
async function bareNodeRss(): Promise<number> {
  const child = spawn(
    process.execPath,
    ['-e', "const {Worker}=require('worker_threads');for(let i=0;i<2;i++)new Worker('setInterval(()=>{},1e6)',{eval:true});setInterval(()=>{},1e6)"],
    { stdio: 'ignore' },
  );
  await sleep(3000);
  const rss = memory(child.pid!).rssBytes;
  child.kill();
  return rss;
}

interface Sample {
  t: number;
  cpu: number;
  rss: number;
  rssFile: number;
  rssAnon: number;
  heapTotal: number | undefined;
  external: number | undefined;
  threads: number;
}

/** Seconds between two scrapes of the agent's /metrics during the fixed-rate run. */
const SCRAPE_EVERY = 5;

const threadCount = (pid: number): number => readdirSync(`/proc/${pid}/task`).length;

/**
 * CPU seconds per kind of thread between two readings (threads that appeared meanwhile count from 0): the main
 * thread, V8's four platform threads created right after it (garbage collection, compilation), and the rest (the libuv
 * pool: file reads, fsyncs, renames; seal workers when started). Kinds are inferred from creation order (proc.ts).
 */
function threadDelta(before: ThreadCpu[], after: ThreadCpu[]): { main: number; v8: number; rest: number } {
  const was = new Map(before.map((t) => [t.tid, t.cpuSeconds]));
  const d = after.map((t) => t.cpuSeconds - (was.get(t.tid) ?? 0));
  const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
  return { main: d[0] ?? 0, v8: sum(d.slice(1, 5)), rest: sum(d.slice(5)) };
}

const percents = (d: { main: number; v8: number; rest: number }, seconds: number): string =>
  `main thread ${((100 * d.main) / seconds).toFixed(2)} %, V8 helpers ${((100 * d.v8) / seconds).toFixed(2)} %, ` +
  `libuv pool and others ${((100 * d.rest) / seconds).toFixed(2)} %`;

const secondsByThread = (d: { main: number; v8: number; rest: number }): string =>
  `main thread ${d.main.toFixed(2)} s, V8 helpers ${d.v8.toFixed(2)} s, libuv pool and others ${d.rest.toFixed(2)} s`;

async function main(): Promise<void> {
  const root = repoRoot();
  const cliPath = path.join(root, 'dist/agent/cli/main.js');
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: build the agent first with npx tsc -p tsconfig.json`);
  const seconds = positive('seconds', args.seconds);
  const idleSeconds = positive('idle-seconds', args['idle-seconds']);
  const lineBytes = positive('line-bytes', args['line-bytes']);
  const rate = parseSize(args.rate!);
  if (args.algorithm !== 'aes' && args.algorithm !== 'sm4') throw new Error(`--algorithm: expected aes or sm4, got "${args.algorithm}"`);
  const algorithm: Algorithm = args.algorithm === 'aes' ? 'AES_256_GCM' : 'SM4_128_GCM';
  const log = (s: string) => console.log(s);
  log(`logseal footprint benchmark — ${machine()}`);
  log(`command: npx tsx native-bench/footprint.ts ${process.argv.slice(2).join(' ')}`.trim());
  log(`revision: ${revision(root)}`);

  const work = mkdtempSync(path.join(os.tmpdir(), 'logseal-footprint-'));
  const liveDir = path.join(work, 'live');
  mkdirSync(liveDir);
  const dataset: Dataset = { dir: liveDir, files: [], lines: 0, bytes: 0, digest: new LineDigest().value(), mix: {} };
  const plan: RunPlan = {
    cliPath,
    workDir: work,
    dataset,
    algorithm,
    mode: 'group',
    // The agent's own defaults for what a user would not tune; a short linger so a 10 MB/s stream is not held a second.
    tuning: { batchBytes: '2MiB', maxLogs: 4096, linger: '1s', maxInFlight: 8, ...(args.concurrency === 'fixed' ? { concurrency: 'fixed' as const } : {}), shardCount: 2, rotateMaxAge: '5m' },
    verify: false,
    deadlineMs: 120_000,
    log,
  };
  const results: Record<string, unknown> = { machine: machine(), revision: revision(root) };
  try {
    const bare = await bareNodeRss();
    log(`reference: bare Node ${process.version} with two idle worker threads: RSS ${(bare / MiB).toFixed(1)} MiB`);
    results.bareNodeRssBytes = bare;

    // ---- start-up and idle ----
    const run = await prepare(plan, 'footprint');
    let agent: AgentProcess | undefined;
    try {
      const t0 = performance.now();
      agent = await AgentProcess.start(plan.cliPath, run.configFile, args['node-args']?.split(/\s+/).filter(Boolean) ?? []);
      const ready = { wall: (performance.now() - t0) / 1000, cpu: agent.cpuSeconds() };
      await sleep(2000); // workers and the first key settle
      const settled = agent.cpuSeconds();
      const idleThreads = agent.threads();
      const startupByThread = threadDelta([], idleThreads);
      const idleStart = performance.now();
      await sleep(idleSeconds * 1000);
      const idleCpu = agent.cpuSeconds() - settled;
      const idleWall = (performance.now() - idleStart) / 1000;
      const idleByThread = threadDelta(idleThreads, agent.threads());
      const idleMemory = agent.memory();
      const idleRss = idleMemory.rssBytes;
      const idleMetrics = await agent.metrics();
      results.startup = { wallSeconds: ready.wall, cpuSecondsAtReady: ready.cpu, cpuSecondsAfterSettle: settled };
      results.idle = { rssBytes: idleRss, rssFileBytes: idleMemory.rssFileBytes, rssAnonBytes: idleMemory.rssAnonBytes, cpuPercent: (100 * idleCpu) / idleWall, cpuSecondsByThread: idleByThread };
      log(`start-up: metrics up after ${ready.wall.toFixed(2)} s wall, ${ready.cpu.toFixed(2)} CPU s; ${settled.toFixed(2)} CPU s 2 s later`);
      log(`  by thread: ${secondsByThread(startupByThread)}`);
      log(`idle (${idleSeconds} s, nothing to read): RSS ${(idleRss / MiB).toFixed(1)} MiB (${(idleRss / bare).toFixed(2)}× bare Node), CPU ${((100 * idleCpu) / idleWall).toFixed(2)} % of one core`);
      log(`  by thread: ${percents(idleByThread, idleWall)}`);
      const mib = (name: string) => ((idleMetrics.get(name) ?? NaN) / MiB).toFixed(1);
      log(
        `  where the memory is: main-thread V8 heap ${mib('logseal_nodejs_heap_size_total_bytes')} MiB (${mib('logseal_nodejs_heap_size_used_bytes')} used), ` +
          `external (Buffers) ${mib('logseal_nodejs_external_memory_bytes')} MiB, ${threadCount(agent.pid)} OS threads; ` +
          `RSS of mapped files (the node binary, libraries) ${(idleMemory.rssFileBytes / MiB).toFixed(1)} MiB, anonymous ${(idleMemory.rssAnonBytes / MiB).toFixed(1)} MiB`,
      );

      // ---- fixed rate ----
      const file = path.join(liveDir, 'app.log');
      writeFileSync(file, '');
      const writer = startFixedWriter(file, rate, lineBytes, args.lines as 'padded' | 'mixed');
      const samples: Sample[] = [];
      let steadyThreads: ThreadCpu[] | undefined;
      const fixedStart = performance.now();
      const warmup = 5;
      while ((performance.now() - fixedStart) / 1000 < seconds + warmup) {
        await sleep(1000);
        // /proc every second; /metrics (heap and Buffers) every SCRAPE_EVERY seconds, as a Prometheus server would
        // scrape: rendering the metrics costs the agent CPU of its own (~0.25 % of a core when scraped every second).
        const m = samples.length % SCRAPE_EVERY === 0 ? await agent.metrics() : undefined;
        const resident = agent.memory();
        samples.push({
          t: (performance.now() - fixedStart) / 1000,
          cpu: agent.cpuSeconds(),
          rss: resident.rssBytes,
          rssFile: resident.rssFileBytes,
          rssAnon: resident.rssAnonBytes,
          heapTotal: m?.get('logseal_nodejs_heap_size_total_bytes'),
          external: m?.get('logseal_nodejs_external_memory_bytes'),
          threads: threadCount(agent.pid),
        });
        if (!steadyThreads && samples[samples.length - 1]!.t >= warmup) steadyThreads = agent.threads();
      }
      const steadyByThread = threadDelta(steadyThreads ?? [], agent.threads());
      const written = writer.stop();
      const a = agent;
      await waitUntilShipped(a, plan, () => written.lines);
      const steady = samples.filter((s) => s.t >= warmup);
      const first = steady[0]!, last = steady[steady.length - 1]!;
      const cpuPercent = (100 * (last.cpu - first.cpu)) / (last.t - first.t);
      const mean = (f: (s: Sample) => number | undefined) => {
        const xs = steady.map(f).filter((x): x is number => x !== undefined);
        return xs.reduce((n, x) => n + x, 0) / xs.length;
      };
      const meanRss = mean((s) => s.rss);
      const meanRssFile = mean((s) => s.rssFile), meanRssAnon = mean((s) => s.rssAnon);
      const peakRss = memory(a.pid).peakRssBytes;
      results.fixedRate = { rate, lineBytes, lineKind: args.lines, seconds, lines: written.lines, cpuPercent, meanRssBytes: meanRss, meanRssFileBytes: meanRssFile, meanRssAnonBytes: meanRssAnon, peakRssBytes: peakRss, cpuSecondsByThread: steadyByThread };
      log(
        `fixed rate: ${(rate / MB).toFixed(1)} MB/s of ${lineBytes}-byte lines for ${seconds} s (${written.lines} ${args.lines} lines, all acknowledged): ` +
          `CPU ${cpuPercent.toFixed(2)} % of one core, mean RSS ${(meanRss / MiB).toFixed(1)} MiB (${(meanRss / bare).toFixed(2)}× bare Node), peak ${(peakRss / MiB).toFixed(1)} MiB`,
      );
      log(
        `  where the memory is (means): main-thread V8 heap ${(mean((s) => s.heapTotal) / MiB).toFixed(1)} MiB, main-thread external (Buffers) ` +
          `${(mean((s) => s.external) / MiB).toFixed(1)} MiB, ${mean((s) => s.threads).toFixed(1)} OS threads (seal workers included); ` +
          `RSS of mapped files ${(meanRssFile / MiB).toFixed(1)} MiB, anonymous ${(meanRssAnon / MiB).toFixed(1)} MiB`,
      );
      log(`  where the CPU is: ${percents(steadyByThread, last.t - first.t)}`);

      // ---- after the load: what the agent keeps once nothing comes any more ----
      const afterSeconds = positive('after-seconds', args['after-seconds']);
      const afterStart = a.cpuSeconds();
      await sleep(afterSeconds * 1000);
      const afterRss = a.memory().rssBytes;
      const afterMetrics = await a.metrics();
      results.afterLoad = { seconds: afterSeconds, rssBytes: afterRss, cpuSeconds: a.cpuSeconds() - afterStart };
      log(
        `after the load (${afterSeconds} s with nothing to read): RSS ${(afterRss / MiB).toFixed(1)} MiB, main-thread V8 heap ` +
          `${((afterMetrics.get('logseal_nodejs_heap_size_total_bytes') ?? 0) / MiB).toFixed(1)} MiB, CPU ` +
          `${((100 * (a.cpuSeconds() - afterStart)) / afterSeconds).toFixed(2)} % of one core`,
      );
      await a.stop();

      const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
      log('targets:');
      log(`  fixed rate CPU ≤ ${TARGETS.fixedRateCpuPercent} % of one core: ${cpuPercent.toFixed(2)} % — ${met(cpuPercent <= TARGETS.fixedRateCpuPercent)}`);
      log(`  fixed rate mean RSS ≤ ${TARGETS.fixedRateMeanRssMiB} MiB: ${(meanRss / MiB).toFixed(1)} — ${met(meanRss / MiB <= TARGETS.fixedRateMeanRssMiB)}`);
      log(`  idle RSS ≤ ${TARGETS.idleRssMiB} MiB: ${(idleRss / MiB).toFixed(1)} — ${met(idleRss / MiB <= TARGETS.idleRssMiB)}`);
      log(`  idle CPU ~0 (≤ ${TARGETS.idleCpuPercent} %): ${((100 * idleCpu) / idleWall).toFixed(2)} % — ${met((100 * idleCpu) / idleWall <= TARGETS.idleCpuPercent)}`);
      log(`  start-up ≤ ${TARGETS.startupCpuSeconds} CPU s: ${settled.toFixed(2)} — ${met(settled <= TARGETS.startupCpuSeconds)}`);
    } finally {
      agent?.kill();
      await run.cleanup();
    }
    if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`footprint: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
