// Read benchmark: ships a dataset with the real agent (bench:e2e's run), then times `logseal decrypt` as a child process
// against the same emulator: MB of log text per decrypt CPU second, MB/s wall, peak RSS, and the ratio to the agent's run.
// Run: npm run bench:read -- [--quick] [--size 1GB] [--configs aes-group,sm4-group,aes-log,sm4-log] [--files 8]
//      [--data DIR] [--threads N] [--decrypt-args "--where ..."] [--reference-cli PATH]
// --reference-cli: another build's dist/agent/cli/main.js (e.g. an export of an older commit), timed on the same data
//   right after with the same arguments, for a ratio measured in the same run.
// --decrypt-args: extra `logseal decrypt` arguments, split at spaces, e.g. --decrypt-args='--where content~"GET"'
//   (with `=`: the value starts with a dash).
// --quick = 100 MB; the default is 1 GB. MB = 10^6 bytes of log text on disk. Build first (npm run bench:read does).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Algorithm, Mode } from './e2e/agent-process.js';
import { writeDataset } from './e2e/dataset.js';
import type { EmulatorProcess } from './e2e/emulator.js';
import { clockTicks, memory } from './e2e/proc.js';
import { labelOf, throughputRun, type ThroughputResult } from './e2e/runs.js';

const MB = 1e6;
const TARGETS = { mbPerCpuSecond: 200, mbPerSecondWall: 150, peakRssMiB: 200 };

function fail(e: unknown): never {
  console.error(`read: ${(e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ')}`);
  process.exit(2);
}

const { values: args } = (() => {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        size: { type: 'string' },
        configs: { type: 'string', default: 'aes-group,sm4-group,aes-log,sm4-log' },
        files: { type: 'string', default: '8' },
        data: { type: 'string' },
        threads: { type: 'string' },
        'decrypt-args': { type: 'string', default: '' },
        'reference-cli': { type: 'string' },
      },
    });
  } catch (e) {
    return fail(e);
  }
})();

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(MB|GB)$/i.exec(s.trim());
  if (!m) throw new Error(`--size: expected e.g. 1GB or 200MB, got "${s}"`);
  return Math.round(Number(m[1]) * (m[2]!.toUpperCase() === 'GB' ? 1e9 : 1e6));
}

const CONFIGS: Record<string, { algorithm: Algorithm; mode: Mode }> = {
  'aes-group': { algorithm: 'AES_256_GCM', mode: 'group' },
  'sm4-group': { algorithm: 'SM4_128_GCM', mode: 'group' },
  'aes-log': { algorithm: 'AES_256_GCM', mode: 'log' },
  'sm4-log': { algorithm: 'SM4_128_GCM', mode: 'log' },
};

/** CPU seconds of this process's children that have been waited for (/proc/self/stat cutime + cstime). */
function reapedChildrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / clockTicks();
}

interface DecryptTiming {
  cpuSeconds: number;
  wallSeconds: number;
  peakRssBytes: number;
  outputBytes: number;
  lines: number;
  emulatorCpuSeconds: number;
}

/** Runs `logseal decrypt` to completion, reading its stdout as fast as it comes; CPU from the kernel's child accounting. */
async function timeDecrypt(cliPath: string, configFile: string, emulator: EmulatorProcess, extra: string[]): Promise<DecryptTiming> {
  const cpu0 = reapedChildrenCpu();
  const emu0 = emulator.cpuSeconds();
  const t0 = performance.now();
  const child = spawn(process.execPath, [cliPath, 'decrypt', '-c', configFile, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let outputBytes = 0;
  let lines = 0;
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    outputBytes += b.length;
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
  });
  child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  let peak = 0;
  const poll = setInterval(() => {
    try {
      peak = Math.max(peak, memory(child.pid!).peakRssBytes);
    } catch {
      // exited between two polls
    }
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearInterval(poll);
  const wallSeconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`logseal decrypt exited with ${code}: ${err.trim().split('\n').pop() ?? ''}`);
  return { cpuSeconds: reapedChildrenCpu() - cpu0, wallSeconds, peakRssBytes: peak, outputBytes, lines, emulatorCpuSeconds: emulator.cpuSeconds() - emu0 };
}

function repoRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'agent'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('cannot find the repository root');
  }
}

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');

async function main(): Promise<void> {
  const size = args.size ? parseSize(args.size) : args.quick ? 100 * MB : 1e9;
  const configs = args.configs!.split(',').map((c) => {
    const cfg = CONFIGS[c.trim()];
    if (!cfg) throw new Error(`--configs: unknown "${c}" (expected ${Object.keys(CONFIGS).join(', ')})`);
    return cfg;
  });
  const root = repoRoot();
  const cliPath = path.join(root, 'dist/agent/cli/main.js');
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npx tsc -p tsconfig.json first`);
  const extra = args['decrypt-args']!.split(/\s+/).filter(Boolean);
  if (args.threads) extra.push('--threads', args.threads);
  const log = (s: string): void => console.log(s);
  log(`logseal read benchmark — ${os.availableParallelism()} CPUs, Node ${process.version}`);
  log(`command: npm run bench:read -- ${process.argv.slice(2).join(' ')}`.trim());
  const work = mkdtempSync(path.join(os.tmpdir(), 'logseal-read-bench-'));
  try {
    const dataset = writeDataset(args.data ? path.resolve(args.data) : path.join(work, 'data'), size, Number(args.files));
    log(`data: ${f1(dataset.bytes / MB)} MB of log text, ${dataset.lines} lines, shipped by \`logseal run\` to 2 shards (batch 1MiB, zip lz4)`);
    log('');
    log('config      run MB/CPU-s  decrypt CPU-s  wall s  MB/CPU-s  MB/s wall  ratio to run  peak RSS MiB  emulator CPU-s  lines');
    const rows: Array<{ label: string; run: ThroughputResult; d: DecryptTiming; ref?: DecryptTiming }> = [];
    const reference = args['reference-cli'] ? path.resolve(args['reference-cli']) : undefined;
    if (reference && !existsSync(reference)) throw new Error(`--reference-cli: ${reference} does not exist`);
    for (const c of configs) {
      let timing: DecryptTiming | undefined;
      let refTiming: DecryptTiming | undefined;
      const run = await throughputRun(
        {
          cliPath,
          workDir: work,
          dataset,
          algorithm: c.algorithm,
          mode: c.mode,
          tuning: { batchBytes: '1MiB', maxLogs: 4096, linger: '200ms', maxInFlight: 8, shardCount: 2, rotateMaxAge: '5m' },
          verify: false,
          deadlineMs: Math.max(120_000, (dataset.bytes / MB) * 1000),
          log,
          afterShip: async ({ emulator, configFile }) => {
            timing = await timeDecrypt(cliPath, configFile, emulator, extra);
            if (reference) refTiming = await timeDecrypt(reference, configFile, emulator, extra);
          },
        },
        `read-${c.algorithm === 'AES_256_GCM' ? 'aes' : 'sm4'}-${c.mode}`,
      );
      const d = timing!;
      if (extra.length === 0 && d.lines !== dataset.lines) throw new Error(`decrypt printed ${d.lines} lines, the dataset has ${dataset.lines}`);
      const runRate = dataset.bytes / MB / run.cpuSeconds;
      const rate = dataset.bytes / MB / d.cpuSeconds;
      rows.push({ label: labelOf(c.algorithm, c.mode), run, d, ...(refTiming ? { ref: refTiming } : {}) });
      log(
        `${labelOf(c.algorithm, c.mode).padEnd(10)}  ${f1(runRate).padStart(12)}  ${f2(d.cpuSeconds).padStart(13)}  ${f2(d.wallSeconds).padStart(6)}  ` +
          `${f1(rate).padStart(8)}  ${f1(dataset.bytes / MB / d.wallSeconds).padStart(9)}  ${f2(rate / runRate).padStart(12)}  ` +
          `${f1(d.peakRssBytes / 2 ** 20).padStart(12)}  ${f2(d.emulatorCpuSeconds).padStart(14)}  ${d.lines}`,
      );
    }
    log('');
    log(`targets (decrypt, per configuration): >= ${TARGETS.mbPerCpuSecond} MB/CPU-s, >= ${TARGETS.mbPerSecondWall} MB/s wall, peak RSS <= ${TARGETS.peakRssMiB} MiB (the RSS target is for 1 GB)`);
    for (const { label, d } of rows) {
      const rate = dataset.bytes / MB / d.cpuSeconds;
      const wall = dataset.bytes / MB / d.wallSeconds;
      log(
        `  ${label.padEnd(10)} ${f1(rate)} MB/CPU-s ${met(rate >= TARGETS.mbPerCpuSecond)}; ${f1(wall)} MB/s wall ${met(wall >= TARGETS.mbPerSecondWall)}; ` +
          `peak RSS ${f1(d.peakRssBytes / 2 ** 20)} MiB ${met(d.peakRssBytes <= TARGETS.peakRssMiB * 2 ** 20)}`,
      );
    }
    log('ratio to run = decrypt MB/CPU-s ÷ the agent\'s MB/CPU-s shipping the same data (start-up included in both).');
    if (reference) {
      log('');
      log(`reference reader ${reference}, same data, right after, same arguments:`);
      for (const { label, d, ref } of rows) {
        if (!ref) continue;
        const rate = dataset.bytes / MB / ref.cpuSeconds;
        log(
          `  ${label.padEnd(10)} ${f2(ref.cpuSeconds)} CPU-s, ${f2(ref.wallSeconds)} s wall: ${f1(rate)} MB/CPU-s, ${f1(dataset.bytes / MB / ref.wallSeconds)} MB/s wall, ` +
            `peak RSS ${f1(ref.peakRssBytes / 2 ** 20)} MiB; this build uses ${f2(d.cpuSeconds / ref.cpuSeconds)}× its CPU and ${f2(d.wallSeconds / ref.wallSeconds)}× its wall time`,
        );
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch(fail);
