// Benchmark: how fast a spool backlog drains to SLS, replaying one PutLogs at a time (the reference) against several in
// flight, both measured in this process against the same `logseal emulator` process, rounds interleaved.
// Run: npm run bench:replay [-- --entries 150 --parallel 8 --latency-ms 0,20]
// Entries are sealed AES group batches of 4096 generated lines (zip lz4, body uncompressed: what the agent spools with
// the defaults), ~0.35 MB each. --latency-ms adds that much to every SLS request (the emulator's fault setting) to stand
// for the round trip to a real SLS endpoint; 0 is loopback. MB = 10^6 bytes of spool entry files.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { replaySpool } from '../agent/pipeline/spool-replay.js';
import { cipherFor } from '../agent/seal/cipher.js';
import { sealEncodedGroup, type DataKey } from '../agent/seal/record.js';
import { SlsClient } from '../agent/ship/index.js';
import { Spool } from '../agent/spool/index.js';
import { encodeLogGroup, type LogGroup } from '../agent/wire/loggroup.js';
import { LineSource } from './e2e/dataset.js';
import { EmulatorProcess } from './e2e/emulator.js';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '150' },
    parallel: { type: 'string', default: '8' },
    'latency-ms': { type: 'string', default: '0,20' },
    rounds: { type: 'string', default: '2' },
  },
});
const ENTRIES = Number(args.entries);
const PARALLEL = Number(args.parallel);
const MB = 1e6;

function sealedBodies(n: number): Uint8Array[] {
  const key: DataKey = { algorithm: 'AES_256_GCM', plaintext: randomBytes(32), cmkId: 'key-bench', blob: 'YmxvYi1mb3ItYmVuY2htYXJr' };
  const cipher = cipherFor('AES_256_GCM');
  return Array.from({ length: n }, (_, g) => {
    const source = new LineSource(2000 + g);
    const group: LogGroup = {
      topic: 'bench',
      source: '10.0.0.8',
      logTags: [{ key: '__path__', value: `/var/log/app/app-${g}.log` }],
      logs: Array.from({ length: 4096 }, (_, i) => ({ time: 1_763_924_400 + (i >> 8), contents: [{ key: 'content', value: Buffer.from(source.next().text) }] })),
    };
    return encodeLogGroup(sealEncodedGroup(encodeLogGroup(group), key, { project: 'bench', logstore: 'replay', mode: 'group', zip: 'lz4' }, cipher).shipped);
  });
}

async function drain(client: SlsClient, bodies: Uint8Array[], parallel: number, work: string): Promise<{ mb: number; seconds: number }> {
  const dir = mkdtempSync(path.join(work, 'spool-'));
  const spool = await Spool.open({ dir, maxBytes: 2 ** 40 });
  for (let i = 0; i < ENTRIES; i++) {
    const body = bodies[i % bodies.length]!;
    await spool.append({ logstore: 'replay', payload: { body, rawSize: body.length, compressType: 'none' }, logCount: 4096 });
  }
  const bytes = spool.bytes;
  const t0 = performance.now();
  await replaySpool(client, spool, parallel, new AbortController().signal, {
    shipped: () => {},
    putAside: async () => false,
    failed: (err) => {
      throw err;
    },
    backOff: async () => {},
    closed: () => false,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (spool.count !== 0) throw new Error('the spool did not drain');
  await spool.close();
  rmSync(dir, { recursive: true, force: true });
  return { mb: bytes / MB, seconds };
}

async function main(): Promise<void> {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const work = mkdtempSync(path.join(os.tmpdir(), 'logseal-replay-bench-'));
  const emulator = await EmulatorProcess.start(path.join(root, 'dist/agent/cli/main.js'), path.join(work, 'emulator'));
  const { sls, accessKeyId, accessKeySecret } = emulator.endpoints;
  const client = new SlsClient({ endpoint: sls, project: 'bench', credentials: { accessKeyId, accessKeySecret }, maxSockets: PARALLEL, timeoutMs: 60_000 });
  try {
    await client.createLogstore({ logstoreName: 'replay', ttl: 1, shardCount: 2 });
    const bodies = sealedBodies(8);
    console.log(`spool replay: ${ENTRIES} entries of ~${(bodies[0]!.length / MB).toFixed(2)} MB, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`${'added latency'.padEnd(14)} ${'in flight'.padStart(9)} ${'best MB/s'.padStart(10)} ${'all runs MB/s'.padStart(24)} ${'vs 1'.padStart(6)}`);
    for (const latency of args['latency-ms']!.split(',').map(Number)) {
      await emulator.setSlsFaults(latency > 0 ? { latencyMs: latency } : {});
      const runs: Record<number, number[]> = { 1: [], [PARALLEL]: [] };
      for (let round = 0; round < Number(args.rounds); round++) {
        for (const parallel of [1, PARALLEL]) {
          const r = await drain(client, bodies, parallel, work);
          runs[parallel]!.push(r.mb / r.seconds);
        }
      }
      for (const parallel of [1, PARALLEL]) {
        const best = Math.max(...runs[parallel]!);
        const ratio = best / Math.max(...runs[1]!);
        console.log(
          `${`${latency} ms`.padEnd(14)} ${String(parallel).padStart(9)} ${best.toFixed(1).padStart(10)} ${runs[parallel]!.map((x) => x.toFixed(1)).join(', ').padStart(24)} ${ratio.toFixed(2).padStart(6)}`,
        );
      }
    }
  } finally {
    await client.close();
    await emulator.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`replay: ${(err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')}`);
  process.exit(2);
});
