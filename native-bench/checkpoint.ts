// Checkpoint saves: CPU of this process per save, in one job of the addon (durable-file.c) against the same save
// through node:fs/promises, interleaved in the same process on the same directory. Each save is the agent's: a
// temporary file written and fsynced, the previous version kept as .bak, renamed over, the directory fsynced.
// Run: npx tsx native-bench/checkpoint.ts [--saves 300] [--rounds 5] [--files 1]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CheckpointStore, type FileCheckpoint } from '../agent/checkpoint/index.js';
import { nativeAddon } from '../agent/native/addon.js';
import { cpuMs, median } from './cpu-rate.js';

const { values: args } = parseArgs({ options: { saves: { type: 'string', default: '300' }, rounds: { type: 'string', default: '5' }, files: { type: 'string', default: '1' } } });
const saves = Number(args.saves), rounds = Number(args.rounds), files = Number(args.files);

async function perSave(store: CheckpointStore, cps: FileCheckpoint[]): Promise<{ cpuUs: number; wallMs: number }> {
  const cpu = cpuMs(), wall = performance.now();
  for (let i = 0; i < saves; i++) {
    for (const c of cps) c.offset += 512;
    await store.save(cps);
  }
  return { cpuUs: ((cpuMs() - cpu) * 1000) / saves, wallMs: (performance.now() - wall) / saves };
}

async function main(): Promise<void> {
  if (!nativeAddon?.replaceFileDurably) throw new Error('the addon is not built (npm ci builds it): nothing to compare');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'logseal-bench-checkpoint-'));
  try {
    const cps = Array.from({ length: files }, (_, i): FileCheckpoint => ({
      fileId: `file-${i}`, path: `/var/log/app/app-${i}.log`, dev: 2049, ino: 1000 + i, fingerprint: 'ab'.repeat(32), fingerprintBytes: 1024, offset: 0,
    }));
    const oneJob = new CheckpointStore(path.join(dir, 'one-job.json'));
    const promises = new CheckpointStore(path.join(dir, 'promises.json'), { oneJob: false });
    await perSave(oneJob, cps); // warm-up: JIT, the files and their .bak exist
    await perSave(promises, cps);
    const a: Array<{ cpuUs: number; wallMs: number }> = [], b: typeof a = [];
    for (let r = 0; r < rounds; r++) {
      a.push(await perSave(oneJob, cps));
      b.push(await perSave(promises, cps));
    }
    const m = (xs: typeof a, k: 'cpuUs' | 'wallMs') => median(xs.map((x) => x[k]));
    console.log(`checkpoint saves, ${files} file(s) per save, ${saves} saves × ${rounds} interleaved rounds, median (${os.tmpdir()}, Node ${process.version})`);
    console.log('path                     CPU µs/save  wall ms/save');
    console.log(`addon, one job         ${m(a, 'cpuUs').toFixed(0).padStart(13)}  ${m(a, 'wallMs').toFixed(2).padStart(12)}`);
    console.log(`node:fs/promises       ${m(b, 'cpuUs').toFixed(0).padStart(13)}  ${m(b, 'wallMs').toFixed(2).padStart(12)}`);
    console.log(`one job ÷ promises: CPU ${(m(a, 'cpuUs') / m(b, 'cpuUs')).toFixed(2)}×, wall ${(m(a, 'wallMs') / m(b, 'wallMs')).toFixed(2)}×`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`checkpoint: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
