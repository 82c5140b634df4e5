// End-to-end benchmark: the real agent tails generated log files and ships them sealed to the local SLS in another process;
// measured per agent CPU second next to raw node:crypto (the ceiling) and the official @alicloud/log client (the baseline).
// Run: npx tsx native-bench/e2e.ts [--size 1GB|200MB|…] [--quick] [--configs aes-group,sm4-group,aes-log,sm4-log]
//      [--verify] [--profile] [--skip-down] [--skip-refs] [--data DIR] [--json FILE] [--chart FILE]
//      [--threads N] [--batch-bytes 4MiB] [--max-in-flight 8] [--node-args=--max-semi-space-size=4] [--down-seconds 20]
//      [--concurrency adaptive|fixed] [--sls-latency-ms N]   (sls.concurrency; N ms added to every SLS request)
//      [--repeat N]   (each configuration N times, rounds interleaved; the run with the least CPU is reported, all are listed)
//      npx tsx native-bench/e2e.ts --chart-from results.json --chart chart.svg   (redraws the chart of an earlier --json)
// Build the agent first: npx tsc -p tsconfig.json (the agent runs from dist/). MB = 10^6 bytes of log text on disk.
// --data DIR keeps the generated files for later runs; give it a directory of its own (every *.log in it is shipped).
// LOGSEAL_BENCH_KEEP_PROFILE=DIR with --profile keeps the .cpuprofile files (Chrome DevTools, speedscope).
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Algorithm, Mode } from './e2e/agent-process.js';
import type { CeilingRequest, CeilingResult } from './e2e/ceiling.js';
import { barChartSvg, type Bar } from './e2e/chart.js';
import { byFile, combine, formatTop, summarizeProfiles } from './e2e/cpu-profile.js';
import { writeDataset, type Dataset } from './e2e/dataset.js';
import { EmulatorProcess } from './e2e/emulator.js';
import type { BaselineRequest, BaselineResult } from './e2e/official-baseline.js';
import { machine, parseSize, repoRoot, revision } from './e2e/bench-env.js';
import { backendDownRun, idleRun, labelOf, throughputRun, type BackendDownResult, type IdleResult, type RunPlan, type ThroughputResult } from './e2e/runs.js';

const MB = 1e6;
const TARGETS = { aesGroup: 150, sm4Group: 80, aeadVsRaw: 0.9, vsBaseline: 3, peakRssMb: 200 };

const OPTIONS = {
  size: { type: 'string' },
  quick: { type: 'boolean', default: false },
  configs: { type: 'string', default: 'aes-group,sm4-group,aes-log,sm4-log' },
  files: { type: 'string', default: '8' },
  verify: { type: 'boolean' },
  profile: { type: 'boolean', default: false },
  'skip-down': { type: 'boolean', default: false },
  'skip-refs': { type: 'boolean', default: false },
  'down-seconds': { type: 'string' },
  threads: { type: 'string' },
  'batch-bytes': { type: 'string', default: '4MiB' },
  'max-in-flight': { type: 'string', default: '8' },
  concurrency: { type: 'string' },
  'sls-latency-ms': { type: 'string' },
  'node-args': { type: 'string' },
  data: { type: 'string' },
  json: { type: 'string' },
  chart: { type: 'string' },
  'chart-from': { type: 'string' },
  repeat: { type: 'string', default: '1' },
} as const;

/** Bad flags and failed runs end in one line on stderr, not a stack trace. */
function fail(e: unknown): never {
  console.error(`e2e: ${(e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ')}`);
  process.exit(2);
}

const { values: args } = (() => {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (e) {
    return fail(e);
  }
})();

/** Runs a reference script in its own process so its CPU time is its own; returns the JSON line it prints. */
function runChild<T>(script: string, request: unknown, cwd: string): Promise<T> {
  const file = fileURLToPath(new URL(`./e2e/${script}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
  const loader = file.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...loader, file, JSON.stringify(request)], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}: ${err.trim().split('\n').pop() ?? ''}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
    });
  });
}

const f1 = (x: number): string => x.toFixed(1);
const f0 = (x: number): string => x.toFixed(0);
const rate = (bytes: number, seconds: number): number => bytes / MB / seconds;
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');

/** Other work on the machine shows here; CPU-second figures suffer less from it than wall times, but not nothing. */
const loadAverage = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}

interface Results {
  machine: string;
  revision: string;
  command: string;
  dataset: Omit<Dataset, 'files' | 'dir'> & { files: number };
  idle: IdleResult;
  runs: ThroughputResult[];
  ceilings: CeilingResult[];
  baseline?: BaselineResult;
  profile?: { threads: { thread: string; busyMs: number }[]; top: string };
  down?: BackendDownResult[];
}

async function main(): Promise<void> {
  if (args['chart-from']) {
    if (!args.chart) throw new Error('--chart-from needs --chart <output.svg>');
    writeFileSync(args.chart, chart(JSON.parse(readFileSync(args['chart-from'], 'utf8')) as Results));
    console.log(`chart written to ${args.chart}`);
    return;
  }
  const root = repoRoot();
  const cliPath = path.join(root, 'dist/agent/cli/main.js');
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: build the agent first with npx tsc -p tsconfig.json`);
  const quick = args.quick!;
  const size = parseSize(args.size ?? (quick ? '100MB' : '1GB'));
  const verify = args.verify ?? quick;
  const downSeconds = Number(args['down-seconds'] ?? (quick ? 10 : 20));
  const configs = args.configs!.split(',').map((c) => {
    const m = /^(aes|sm4)-(group|log)$/.exec(c.trim());
    if (!m) throw new Error(`--configs: expected aes-group, sm4-group, aes-log or sm4-log, got "${c}"`);
    return { algorithm: (m[1] === 'aes' ? 'AES_256_GCM' : 'SM4_128_GCM') as Algorithm, mode: m[2] as Mode };
  });
  const log = (s: string): void => console.log(s);
  const command = `npx tsx native-bench/e2e.ts ${process.argv.slice(2).join(' ')}`.trim();

  log(`logseal end-to-end benchmark — ${machine()}`);
  log(`command: ${command}`);
  log(`revision: ${revision(root)}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'logseal-e2e-bench-'));
  const dataDir = args.data ? path.resolve(args.data) : path.join(work, 'data');
  const results: Partial<Results> = { machine: machine(), revision: revision(root), command, runs: [], ceilings: [] };
  try {
    const t = performance.now();
    const dataset = writeDataset(dataDir, size, Number(args.files));
    results.dataset = { lines: dataset.lines, bytes: dataset.bytes, digest: dataset.digest, mix: dataset.mix, files: dataset.files.length };
    log(
      `data: ${f0(dataset.bytes / MB)} MB in ${dataset.files.length} files, ${dataset.lines} lines (mean ${f0(dataset.bytes / dataset.lines)} bytes), ` +
        `mix ${Object.entries(dataset.mix).map(([k, v]) => `${k} ${f0(v * 100)}%`).join(', ')} — ready in ${f1((performance.now() - t) / 1000)} s`,
    );
    const tuning = {
      batchBytes: args['batch-bytes']!,
      maxLogs: 4096,
      linger: '200ms',
      ...(args.threads ? { threads: Number(args.threads) } : {}),
      maxInFlight: Number(args['max-in-flight']),
      ...(args.concurrency ? { concurrency: concurrencyOf(args.concurrency) } : {}),
      shardCount: 2,
      rotateMaxAge: '5m',
    };
    const deadlineMs = Math.max(120_000, (dataset.bytes / (1 * MB)) * 1000);
    const nodeArgs = args['node-args'] ? args['node-args'].split(/\s+/).filter(Boolean) : [];
    const planFor = (algorithm: Algorithm, mode: Mode, extra: Partial<RunPlan> = {}): RunPlan => ({
      cliPath,
      nodeArgs,
      workDir: work,
      dataset,
      algorithm,
      mode,
      tuning,
      verify,
      deadlineMs,
      log,
      ...(args['sls-latency-ms'] ? { slsLatencyMs: Number(args['sls-latency-ms']) } : {}),
      ...extra,
    });
    log(
      `agent: seal.threads ${tuning.threads ?? `default (${os.availableParallelism()})`}, batch ${tuning.batchBytes} / ${tuning.maxLogs} logs / linger ${tuning.linger}, ` +
        `sls.maxInFlight ${tuning.maxInFlight} (${tuning.concurrency ?? 'adaptive'})${args['sls-latency-ms'] ? `, ${args['sls-latency-ms']} ms added to every SLS request` : ''}, zip lz4, PutLogs body sls.compress auto, ${tuning.shardCount} shards, rotate.maxAge ${tuning.rotateMaxAge}` +
        `${nodeArgs.length ? `, node ${nodeArgs.join(' ')}` : ''}${verify ? ', verified with logseal decrypt' : ''}`,
    );

    // ---- the agent with nothing to do: its fixed memory ----
    const idle = await idleRun(planFor('AES_256_GCM', 'group'), 'idle');
    results.idle = idle;
    log(`idle agent (nothing to read, 3 s after start): RSS ${f0(idle.rssBytes / 2 ** 20)} MiB, ${f1(idle.cpuSeconds)} CPU s for start-up`);

    // ---- the agent, per configuration ----
    // On a shared machine one run can be off by a third; --repeat interleaves rounds so every configuration meets the
    // same neighbours, and keeps the least disturbed run (least CPU) of each.
    const repeat = Math.max(1, Number(args.repeat));
    const rounds = new Map<string, ThroughputResult[]>();
    for (let round = 1; round <= repeat; round++) for (const c of configs) {
      log(`\n${labelOf(c.algorithm, c.mode)}: shipping…${repeat > 1 ? ` (round ${round} of ${repeat})` : ''} (load average ${loadAverage()})`);
      const r = await throughputRun(planFor(c.algorithm, c.mode), `run-${c.algorithm === 'AES_256_GCM' ? 'aes' : 'sm4'}-${c.mode}-${round}`);
      const all = rounds.get(r.label) ?? [];
      all.push(r);
      rounds.set(r.label, all);
      log(
        `  ${f1(r.wallSeconds)} s wall, ${f1(r.cpuSeconds)} CPU s → ${f0(rate(r.bytes, r.cpuSeconds))} MB/CPU-s (steady ${f0(r.steadyMbPerCpuSecond)}), ` +
          `peak RSS ${f0(r.peakRssBytes / 2 ** 20)} MiB, ` +
          (r.concurrencyLimit ? `PutLogs concurrency limit mean ${f1(r.concurrencyLimit.mean)} max ${r.concurrencyLimit.max}, ` : '') +
          `exit ${r.exitCode}, load average after ${loadAverage()}` +
          (r.verified
            ? `, decrypt (${f1(r.verified.seconds)} s): ${r.verified.lines} lines, ${r.verified.ok ? 'all lines match' : `MISMATCH (${r.verified.digest} vs ${dataset.digest})`}`
            : ''),
      );
    }
    for (const all of rounds.values()) {
      const best = all.reduce((a, b) => (b.cpuSeconds < a.cpuSeconds ? b : a));
      if (all.length > 1) {
        best.rounds = all.map((x) => ({ cpuSeconds: x.cpuSeconds, steadyMbPerCpuSecond: x.steadyMbPerCpuSecond, wallSeconds: x.wallSeconds }));
        const list = (f: (x: ThroughputResult) => number) => all.map((x) => f(x).toFixed(0)).join(' / ');
        log(`${best.label}: ${all.length} rounds, MB/CPU-s ${list((x) => rate(x.bytes, x.cpuSeconds))}, steady ${list((x) => x.steadyMbPerCpuSecond)}; the least CPU is reported`);
      }
      results.runs!.push(best);
    }

    // ---- references on the same bytes ----
    if (!args['skip-refs']) {
      const algorithms = [...new Set(configs.map((c) => c.algorithm))];
      for (const algorithm of algorithms) {
        log(`\nceiling: raw node:crypto and the agent's seal step on one thread, ${algorithm}…`);
        const modes = [...new Set(configs.filter((c) => c.algorithm === algorithm).map((c) => c.mode))];
        const req: CeilingRequest = { files: dataset.files, algorithm, modes, passes: 3 };
        const ceiling = await runChild<CeilingResult>('ceiling', req, root);
        results.ceilings!.push(ceiling);
      }
      log('\nbaseline: official @alicloud/log client, postLogStoreLogs of 4096 lines, unencrypted, 4 in flight…');
      const emulator = await EmulatorProcess.start(cliPath, path.join(work, 'baseline-emulator'));
      try {
        const req: BaselineRequest = { files: dataset.files, ...emulator.endpoints, project: 'bench-official', logstore: 'plain', inFlight: 4 };
        const baseline = await runChild<BaselineResult>('official-baseline', req, root);
        const stats = await emulator.slsStats();
        if (stats.putLogs !== baseline.groups || baseline.lines !== dataset.lines) {
          throw new Error(`baseline: sent ${baseline.lines} lines in ${baseline.groups} groups, emulator acknowledged ${stats.putLogs} PutLogs`);
        }
        results.baseline = baseline;
      } finally {
        await emulator.stop();
        rmSync(path.join(work, 'baseline-emulator'), { recursive: true, force: true });
      }
    }

    report(results as Results, dataset);

    // ---- where the agent's CPU goes ----
    if (args.profile) {
      const profileDir = path.join(work, 'profile');
      mkdirSync(profileDir);
      // The first configuration of --configs: the one to look into is named first.
      const profiled = configs[0];
      log(`\nprofile: ${labelOf(profiled.algorithm, profiled.mode)} again with node --cpu-prof (profiling slows it; these numbers are not the measurement above)…`);
      const plan = planFor(profiled.algorithm, profiled.mode, {
        verify: false,
        nodeArgs: [...nodeArgs, '--cpu-prof', '--cpu-prof-dir', profileDir, '--import', pathToFileURL(path.join(root, 'native-bench/e2e/profile-workers.mjs')).href],
        env: { LOGSEAL_BENCH_PROFILE_DIR: profileDir },
      });
      const r = await throughputRun(plan, `profile-${profiled.algorithm === 'AES_256_GCM' ? 'aes' : 'sm4'}-${profiled.mode}`);
      log(`  ${f1(r.wallSeconds)} s wall, ${f1(r.cpuSeconds)} CPU s under the profiler`);
      const threads = summarizeProfiles(profileDir, root);
      if (process.env.LOGSEAL_BENCH_KEEP_PROFILE) {
        // Kept for a closer look in Chrome DevTools / speedscope.
        mkdirSync(process.env.LOGSEAL_BENCH_KEEP_PROFILE, { recursive: true });
        for (const th of threads) copyFileSync(th.file, path.join(process.env.LOGSEAL_BENCH_KEEP_PROFILE, path.basename(th.file)));
      }
      const parts: string[] = [];
      for (const th of threads) {
        parts.push(formatTop(`${th.thread}, busy ${f1(th.busyMs / 1000)} of ${f1(th.sampledMs / 1000)} s sampled`, th.busyMs, th.functions, 15));
        parts.push(formatTop(`${th.thread} by file`, th.busyMs, byFile(th.functions), 8));
      }
      const workers = threads.filter((th) => th.thread !== 'main');
      if (workers.length > 1) {
        const all = combine(workers);
        parts.push(formatTop(`all ${workers.length} worker threads together, busy ${f1(all.busyMs / 1000)} s`, all.busyMs, all.functions, 15));
      }
      const top = parts.join('\n\n');
      log(top);
      results.profile = { threads: threads.map((th) => ({ thread: th.thread, busyMs: th.busyMs })), top };
    }

    // ---- SLS down: the spool takes the sealed batches, memory must stay bounded ----
    if (!args['skip-down']) {
      results.down = [];
      const variants = [
        { withBacklog: false, liveBytesPerSecond: 5 * MB, what: 'only a live file growing at 5 MB/s' },
        { withBacklog: true, liveBytesPerSecond: 2 * MB, what: `the ${f0(dataset.bytes / MB)} MB of files above (read at full speed) plus a live file growing at 2 MB/s` },
      ];
      for (const v of variants) {
        const options = { downSeconds, rotateMaxAge: '10s', rotateMaxAgeSeconds: 10, tailSeconds: 10, ...v };
        log(
          `\nbackend down: AES group; ${v.what}; SLS refuses every PutLogs for ${downSeconds} s after the first acknowledged batch; ` +
            `the writer stops ${options.tailSeconds} s after SLS is back; rotate.maxAge ${options.rotateMaxAge}… (load average ${loadAverage()})`,
        );
        const d = await backendDownRun(planFor('AES_256_GCM', 'group'), v.withBacklog ? 'down-backlog' : 'down-live', options);
        results.down.push(d);
        reportDown(d);
      }
    }

    if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 1)}\n`);
    if (args.chart) {
      writeFileSync(args.chart, chart(results as Results));
      log(`\nchart written to ${args.chart}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function report(r: Results, dataset: Dataset): void {
  const log = (s: string): void => console.log(s);
  log(`\n## end to end: ${f0(dataset.bytes / MB)} MB of log text, ${dataset.lines} lines, ${dataset.files.length} files`);
  log(
    table(
      ['config', 'wall s', 'agent CPU s', 'MB/CPU-s', 'steady MB/CPU-s', 'lines/s', 'MB/s wall', 'peak RSS MiB', 'main heap/ext MiB', 'GenerateDataKey', 'PutLogs', 'emulator CPU s', 'decrypt check'],
      r.runs.map((x) => [
        x.label,
        f1(x.wallSeconds),
        f1(x.cpuSeconds),
        f0(rate(x.bytes, x.cpuSeconds)),
        f0(x.steadyMbPerCpuSecond),
        f0(x.lines / x.wallSeconds),
        f0(rate(x.bytes, x.wallSeconds)),
        f0(x.peakRssBytes / 2 ** 20),
        `${f0(x.mainThread.maxHeapTotalBytes / 2 ** 20)}/${f0(x.mainThread.maxExternalBytes / 2 ** 20)}`,
        `${x.generateDataKeyCalls} (KMS saw ${x.kmsGenerateDataKey})`,
        String(x.putLogs),
        f1(x.emulatorCpuSeconds),
        x.verified ? (x.verified.ok ? `ok, ${x.verified.lines} lines` : 'MISMATCH') : '-',
      ]),
    ),
  );

  const withThreads = r.runs.filter((x) => x.threads);
  if (withThreads.length > 0) {
    log('\n## agent CPU s by thread (first = main; next four = V8 platform threads: GC and compiler helpers; then the busiest = seal workers)');
    log(
      table(
        ['config', 'main', 'V8 helpers', 'seal workers', 'other (libuv pool…)', 'CPU s per GB: main / V8 / seal / other'],
        withThreads.map((x) => {
          const t = x.threads!;
          const perGb = (s: number) => f1((s * 1e9) / x.bytes);
          const seal = t.sealWorkers.reduce((a, b) => a + b, 0);
          return [x.label, f1(t.main), f1(t.v8Helpers), t.sealWorkers.map(f1).join(' + '), f1(t.other), [t.main, t.v8Helpers, seal, t.other].map(perGb).join(' / ')];
        }),
      ),
    );
  }

  if (r.ceilings.length > 0 || r.baseline) {
    log('\n## references, same bytes (MB of log text per CPU second of one thread / process)');
    const rows: string[][] = [];
    for (const c of r.ceilings) {
      const raw = c.algorithm === 'AES_256_GCM' ? 'raw node:crypto aes-256-gcm, 1 MiB chunks' : 'raw node:crypto sm4-ctr (no GHASH), 1 MiB chunks';
      const passes = (cpu: number[]): string => `passes ${cpu.map((x) => f0(rate(c.bytes, x))).join(' / ')}`;
      rows.push([raw, f0(rate(c.bytes, c.cpu.raw)), `best of ${c.passes} interleaved passes (${passes(c.cpu.rawPasses)})`]);
      rows.push([
        `agent AEAD ${c.algorithm} (${c.backend}), same chunks`,
        f0(rate(c.bytes, c.cpu.agentAead)),
        `${(c.cpu.raw / c.cpu.agentAead).toFixed(2)} of raw (${passes(c.cpu.agentAeadPasses)})`,
      ]);
      for (const [mode, cpu] of Object.entries(c.cpu.sealStage)) {
        rows.push([`agent seal step ${c.algorithm === 'AES_256_GCM' ? 'AES' : 'SM4'} ${mode}, inline (encode+lz4+seal+encode+lz4)`, f0(rate(c.bytes, cpu)), '']);
      }
    }
    if (r.baseline) {
      const b = r.baseline;
      rows.push([
        'official @alicloud/log postLogStoreLogs, unencrypted',
        f0(rate(b.bytes, b.cpuSeconds)),
        `${f1(b.wallSeconds)} s wall, ${f1(b.cpuSeconds)} CPU s, ${b.groups} PutLogs, peak RSS ${f0(b.peakRssBytes / 2 ** 20)} MiB`,
      ]);
    }
    log(table(['reference', 'MB/CPU-s', ''], rows));
  }

  log('\n## ratios and targets');
  for (const x of r.runs) {
    const agent = rate(x.bytes, x.cpuSeconds);
    const c = r.ceilings.find((c) => c.algorithm === x.algorithm);
    const parts = [`${x.label}: ${f0(agent)} MB/CPU-s`];
    if (c) parts.push(`${(agent / rate(c.bytes, c.cpu.raw)).toFixed(3)} of the raw ceiling`);
    if (c?.cpu.sealStage[x.mode]) parts.push(`${(agent / rate(c.bytes, c.cpu.sealStage[x.mode]!)).toFixed(2)} of its inline seal step`);
    if (r.baseline) parts.push(`${(agent / rate(r.baseline.bytes, r.baseline.cpuSeconds)).toFixed(2)}× the official client`);
    log(parts.join(', '));
  }
  const checks: string[] = [];
  const find = (a: Algorithm, m: Mode) => r.runs.find((x) => x.algorithm === a && x.mode === m);
  const aes = find('AES_256_GCM', 'group');
  const sm4 = find('SM4_128_GCM', 'group');
  if (aes) checks.push(`AES group ≥ ${TARGETS.aesGroup} MB/CPU-s: ${f0(rate(aes.bytes, aes.cpuSeconds))} → ${met(rate(aes.bytes, aes.cpuSeconds) >= TARGETS.aesGroup)}`);
  if (sm4) checks.push(`SM4 group ≥ ${TARGETS.sm4Group} MB/CPU-s: ${f0(rate(sm4.bytes, sm4.cpuSeconds))} → ${met(rate(sm4.bytes, sm4.cpuSeconds) >= TARGETS.sm4Group)}`);
  for (const c of r.ceilings) {
    const ratio = c.cpu.raw / c.cpu.agentAead;
    checks.push(`seal (agent AEAD) ≥ ${TARGETS.aeadVsRaw} of raw node:crypto, ${c.algorithm}: ${ratio.toFixed(2)} → ${met(ratio >= TARGETS.aeadVsRaw)}`);
  }
  if (r.baseline) {
    const base = rate(r.baseline.bytes, r.baseline.cpuSeconds);
    for (const x of r.runs.filter((x) => x.mode === 'group')) {
      const ratio = rate(x.bytes, x.cpuSeconds) / base;
      checks.push(`${x.label} ≥ ${TARGETS.vsBaseline}× the official client: ${ratio.toFixed(2)}× → ${met(ratio >= TARGETS.vsBaseline)}`);
    }
  }
  for (const x of r.runs) {
    const mib = x.peakRssBytes / 2 ** 20;
    checks.push(`${x.label} peak RSS ≤ ${TARGETS.peakRssMb} MB: ${f0(mib)} MiB → ${met(x.peakRssBytes <= TARGETS.peakRssMb * MB)}`);
  }
  for (const x of r.runs) {
    // Every run is far shorter than rotate.maxAge (5 min), so one rotation period: one key.
    checks.push(`${x.label} one GenerateDataKey per rotation period: ${x.generateDataKeyCalls} in ${f1(x.wallSeconds)} s → ${met(x.generateDataKeyCalls === 1 && x.kmsGenerateDataKey === 1)}`);
  }
  for (const c of checks) log(`- ${c}`);
}

function reportDown(d: BackendDownResult): void {
  const log = (s: string): void => console.log(s);
  const mib = (b: number): string => f0(b / 2 ** 20);
  const periods = Math.ceil(d.wallSeconds / d.rotateMaxAgeSeconds);
  log(
    `\n## backend down: SLS refuses writes for ${d.downSeconds} s, ${d.label}, ${d.withBacklog ? 'backlog + ' : ''}live ${f0(d.liveBytesPerSecond / MB)} MB/s: ` +
      `${f0(d.bytes / MB)} MB / ${d.lines} lines in all`,
  );
  log(
    table(
      ['', 'value'],
      [
        ['RSS before the outage, max', `${mib(d.maxRssBeforeBytes)} MiB`],
        ['RSS during the outage, max', `${mib(d.maxRssDownBytes)} MiB`],
        ['RSS after the outage, max', `${mib(d.maxRssAfterBytes)} MiB`],
        ['peak RSS over the run (VmHWM)', `${mib(d.peakRssBytes)} MiB`],
        ['main thread heap / external, max', `${mib(d.mainThread.maxHeapTotalBytes)} / ${mib(d.mainThread.maxExternalBytes)} MiB`],
        ['spool, max', `${f0(d.maxSpoolBytes / MB)} MB`],
        ['log text read while SLS was down', `${f0(d.bytesReadWhileDown / MB)} MB`],
        ['PutLogs refused', String(d.refusedPutLogs)],
        ['SLS back → spool empty', `${f1(d.catchUpSeconds)} s`],
        ['wall / agent CPU', `${f1(d.wallSeconds)} s / ${f1(d.cpuSeconds)} s`],
        [`GenerateDataKey, rotate.maxAge ${d.rotateMaxAgeSeconds} s`, `${d.generateDataKeyCalls} over ${f1(d.wallSeconds)} s of sealing (${periods} rotation periods)`],
        ['exit code after SIGTERM', String(d.exitCode)],
        ['decrypt check', d.verified ? (d.verified.ok ? `ok, ${d.verified.lines} lines` : `MISMATCH, ${d.verified.lines} lines`) : '-'],
      ],
    ),
  );
  log(`- RSS ≤ ${TARGETS.peakRssMb} MB while SLS is down: ${mib(d.maxRssDownBytes)} MiB → ${met(d.maxRssDownBytes <= TARGETS.peakRssMb * MB)}`);
  // A new key only when the old one is at least maxAge old (fetched ahead a fifth of maxAge early): at most one per period, plus the first.
  log(`- one GenerateDataKey per rotation period: ${d.generateDataKeyCalls} for ${periods} periods → ${met(d.generateDataKeyCalls <= periods + 1 && d.generateDataKeyCalls >= periods - 1)}`);
  // RSS over time, one value every ~2 s, so the shape (flat or climbing) is visible in the log.
  const trace = d.samples.filter((_, i) => i % 10 === 0).map((s) => `${f0(s.t)}s:${mib(s.rssBytes)}${s.down ? '*' : ''}`);
  log(`RSS MiB over time (* = SLS down): ${trace.join(' ')}`);
}

function chart(r: Results): string {
  const bars: Bar[] = [];
  for (const x of r.runs) {
    const target = x.mode === 'group' ? (x.algorithm === 'AES_256_GCM' ? TARGETS.aesGroup : TARGETS.sm4Group) : undefined;
    bars.push({ label: `agent ${x.label}`, value: rate(x.bytes, x.cpuSeconds), kind: 'agent', ...(target ? { target } : {}) });
  }
  for (const c of r.ceilings) {
    const name = c.algorithm === 'AES_256_GCM' ? 'AES' : 'SM4';
    for (const [mode, cpu] of Object.entries(c.cpu.sealStage)) bars.push({ label: `seal step ${name} ${mode} (inline)`, value: rate(c.bytes, cpu), kind: 'stage' });
    bars.push({ label: c.algorithm === 'AES_256_GCM' ? 'node:crypto aes-256-gcm' : 'node:crypto sm4-ctr', value: rate(c.bytes, c.cpu.raw), kind: 'ceiling' });
  }
  if (r.baseline) bars.push({ label: 'official client, unencrypted', value: rate(r.baseline.bytes, r.baseline.cpuSeconds), kind: 'baseline' });
  return barChartSvg(
    `logseal: MB of log text per CPU second (${f0(r.dataset.bytes / MB)} MB, ${r.dataset.lines} lines)`,
    'MB of log text per CPU second, higher is better',
    bars,
    [r.machine, r.command],
  );
}

await main().catch(fail);

function concurrencyOf(raw: string): 'adaptive' | 'fixed' {
  if (raw === 'adaptive' || raw === 'fixed') return raw;
  process.stderr.write(`e2e: --concurrency: expected adaptive or fixed, got "${raw}"\n`);
  process.exit(64);
}
