// Input stage measurements, not part of the test suite: `npm run bench:input` (npx tsx native-bench/input.ts).
//   MODE=read  (default) CPU cost of reading a pre-written file through FileInput; MB=200, PARSER=raw|json, CHUNK=bytes.
//   MODE=idle  CPU use while following IDLE=1000 idle files with a read() waiting; SCAN=1000 (scanIntervalMs),
//              MAXOPEN=1024 (maxOpenFiles); reports the descriptors open at the end.
//   MODE=cri   the same log lines as plain lines and as CRI container logs (every PARTIAL-th line written as two
//              P/F fragments; default 50), read in turn REPEAT=3 times each in this process; prints CRI's lines per
//              CPU second as a ratio of plain lines'.
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileInput } from '../agent/input/index.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const dir = await mkdtemp(path.join(os.tmpdir(), 'logseal-bench-'));
const cpuSeconds = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;

async function readThroughput(): Promise<object> {
  const parser = (process.env.PARSER ?? 'raw') as 'raw' | 'json';
  const line = (i: number) =>
    parser === 'json'
      ? `${JSON.stringify({ ts: '2024-05-01T12:00:00Z', level: 'info', msg: 'request handled', id: i, path: '/api/v1/items', status: 200 })}\n`
      : `2024-05-01T12:00:00.000Z INFO [worker-${i % 16}] request id=${i} path=/api/v1/items/${i % 997} status=200 latency_ms=${i % 300} user=alice bytes=1234\n`;
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < env('MB', 200) * 1e6; i++) {
    parts.push(line(i));
    size += parts[i].length;
  }
  await writeFile(path.join(dir, 'a.log'), parts.join(''));
  const lines = parts.length;
  parts.length = 0; // a live array of a million strings would make every GC pause of the measured loop longer
  const input = new FileInput([{ paths: [path.join(dir, '*.log')], parser: { type: parser } }], {
    checkpoints: new Map(),
    readChunkBytes: env('CHUNK', 512 * 1024),
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let got = 0;
  while (got < lines) for (const run of await input.read(4096)) got += run.count;
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(process.cpuUsage(cpu0));
  await input.close();
  return { parser, lines: got, MB: +(size / 1e6).toFixed(1), wallS: +wall.toFixed(3), cpuS: +cpu.toFixed(3), MBperCpuSecond: +(size / 1e6 / cpu).toFixed(1) };
}

async function idleCost(): Promise<object> {
  const files = env('IDLE', 1000);
  for (let i = 0; i < files; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, files - i) }, (_, k) => writeFile(path.join(dir, `idle-${i + k}.log`), `idle ${i + k}\n`)));
  }
  const fdsBefore = readdirSync('/proc/self/fd').length;
  const input = new FileInput([{ paths: [path.join(dir, '*.log')], scanIntervalMs: env('SCAN', 1000) }], {
    checkpoints: new Map(),
    maxOpenFiles: env('MAXOPEN', 1024),
  });
  let got = 0;
  while (got < files) for (const run of await input.read(4096)) got += run.count;
  const waiting = input.read(10);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 5000));
  const cpuPercent = (cpuSeconds(process.cpuUsage(cpu0)) / ((performance.now() - t0) / 1000)) * 100;
  const openFds = readdirSync('/proc/self/fd').length - fdsBefore;
  await input.close();
  await waiting;
  return { idleFiles: files, scanIntervalMs: env('SCAN', 1000), maxOpenFiles: env('MAXOPEN', 1024), openFds, cpuPercent: +cpuPercent.toFixed(1) };
}

/** Reads every line of the files under `sub` through FileInput; CPU seconds taken. */
async function cpuToRead(sub: string, format: 'lines' | 'cri', lines: number): Promise<number> {
  const input = new FileInput([{ paths: [path.join(dir, sub, '*.log')], format }], { checkpoints: new Map(), readChunkBytes: env('CHUNK', 512 * 1024) });
  const cpu0 = process.cpuUsage();
  let got = 0;
  while (got < lines) for (const run of await input.read(4096)) got += run.count;
  const cpu = cpuSeconds(process.cpuUsage(cpu0));
  await input.close();
  return cpu;
}

async function criAgainstPlain(): Promise<object> {
  const text = (i: number) => `INFO [worker-${i % 16}] request id=${i} path=/api/v1/items/${i % 997} status=200 latency_ms=${i % 300} user=alice bytes=1234`;
  const partialEvery = env('PARTIAL', 50);
  const plain: string[] = [];
  const cri: string[] = [];
  let size = 0;
  for (let i = 0; size < env('MB', 100) * 1e6; i++) {
    const t = text(i);
    plain.push(`${t}\n`);
    const time = `2024-05-01T12:00:${String(i % 60).padStart(2, '0')}.${String(i % 1e9).padStart(9, '0')}Z`;
    const stream = i % 7 === 0 ? 'stderr' : 'stdout';
    const half = t.length >> 1;
    cri.push(i % partialEvery === 0 ? `${time} ${stream} P ${t.slice(0, half)}\n${time} ${stream} F ${t.slice(half)}\n` : `${time} ${stream} F ${t}\n`);
    size += t.length + 1;
  }
  const lines = plain.length;
  await mkdir(path.join(dir, 'plain'));
  await mkdir(path.join(dir, 'cri'));
  await writeFile(path.join(dir, 'plain', 'a.log'), plain.join(''));
  const criBytes = cri.reduce((n, l) => n + l.length, 0);
  await writeFile(path.join(dir, 'cri', 'a.log'), cri.join(''));
  plain.length = 0;
  cri.length = 0;
  const rounds = { plain: [] as number[], cri: [] as number[] };
  for (let r = 0; r < env('REPEAT', 3); r++) {
    rounds.plain.push(await cpuToRead('plain', 'lines', lines));
    rounds.cri.push(await cpuToRead('cri', 'cri', lines));
  }
  const best = (xs: number[]) => Math.min(...xs);
  const perCpu = (cpu: number) => Math.round(lines / cpu);
  return {
    lines,
    logTextMB: +(size / 1e6).toFixed(1),
    criFileMB: +(criBytes / 1e6).toFixed(1),
    plainCpuS: rounds.plain.map((c) => +c.toFixed(3)),
    criCpuS: rounds.cri.map((c) => +c.toFixed(3)),
    plainLinesPerCpuS: perCpu(best(rounds.plain)),
    criLinesPerCpuS: perCpu(best(rounds.cri)),
    criOverPlain: +(best(rounds.plain) / best(rounds.cri)).toFixed(3),
    loadavg: os.loadavg().map((l) => +l.toFixed(2)),
  };
}

try {
  const mode = process.env.MODE;
  console.log(JSON.stringify(mode === 'idle' ? await idleCost() : mode === 'cri' ? await criAgainstPlain() : await readThroughput()));
} finally {
  await rm(dir, { recursive: true, force: true });
}
