// Input stage measurements, not part of the test suite: `npm run bench:input` (npx tsx native-bench/input.ts).
//   MODE=read  (default) CPU cost of reading a pre-written file through FileInput; MB=200, PARSER=raw|json, CHUNK=bytes.
//   MODE=idle  CPU use while following IDLE=1000 idle files with a read() waiting; SCAN=1000 (scanIntervalMs),
//              MAXOPEN=1024 (maxOpenFiles); reports the descriptors open at the end.
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

try {
  console.log(JSON.stringify(process.env.MODE === 'idle' ? await idleCost() : await readThroughput()));
} finally {
  await rm(dir, { recursive: true, force: true });
}
