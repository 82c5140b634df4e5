// Micro benchmark of two costs the end-to-end profile points at (RESULTS.md, "what bounds it"): assembling a sealed record
// with Buffer.concat after node:crypto, and building the batcher's group key for every line.
// Run: npx tsx native-bench/micro-hotspots.ts [--quick]      (best of interleaved rounds, one thread)
import { createCipheriv, randomBytes } from 'node:crypto';
import { Batcher, type BatchEntry } from '../agent/batch/batcher.js';
import { cipherFor } from '../agent/seal/cipher.js';

const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 7;

/** Best seconds per call of each case, rounds interleaved so load from other processes hits every case alike. */
function best(cases: Record<string, () => void>, callsPerRound: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of Object.values(cases)) f();
  for (let r = 0; r < rounds; r++) {
    for (const [name, f] of Object.entries(cases)) {
      const t = performance.now();
      for (let i = 0; i < callsPerRound; i++) f();
      out[name] = Math.min(out[name] ?? Infinity, (performance.now() - t) / 1000 / callsPerRound);
    }
  }
  return out;
}

function aeadAssembly(): void {
  console.log('\n## AES-256-GCM on one 1 MiB record: where the agent AEAD loses against raw node:crypto');
  const key = randomBytes(32), data = randomBytes(1 << 20), aad = Buffer.from('logseal/1|group|AES_256_GCM|bench|e2e|1763924400|1048576');
  const agent = cipherFor('AES_256_GCM', 'native');
  const t = best(
    {
      'raw: update + final + getAuthTag': () => {
        const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
        c.setAAD(aad);
        c.update(data);
        c.final();
        c.getAuthTag();
      },
      'raw + Buffer.concat([body, final, tag])': () => {
        const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
        c.setAAD(aad);
        const body = c.update(data);
        const rest = c.final();
        Buffer.concat([body, rest, c.getAuthTag()]);
      },
      'agent nativeAesGcm.seal (agent/seal/aes-gcm.ts)': () => agent.seal(key, randomBytes(12), data, aad),
    },
    quick ? 30 : 100,
  );
  const raw = t['raw: update + final + getAuthTag']!;
  for (const [name, s] of Object.entries(t)) console.log(`${name.padEnd(50)} ${((1 << 20) / 1e6 / s).toFixed(0).padStart(6)} MB/s  ${(raw / s).toFixed(2)} of raw`);
}

function batcherKey(): void {
  console.log('\n## Batcher.add per line, and the part of it that builds and hashes the group key');
  const tags = [
    { key: 'env', value: 'bench' },
    { key: '__hostname__', value: 'bench-host.example.internal' },
    { key: '__path__', value: '/var/log/app/app-3.log' },
  ];
  const value = new Uint8Array(200);
  const lines = 4096 * 25;
  const entries: BatchEntry[] = Array.from({ length: lines }, (_, i) => ({
    log: { time: 1_763_924_400, contents: [{ key: 'content', value }] },
    topic: 'bench',
    source: '10.0.0.8',
    tags,
    fileId: '2049:123456',
    endOffset: i * 201,
  }));
  const batcher = new Batcher({ maxBytes: 4 << 20, maxLogs: 4096, lingerMs: 200 });
  // The same key the batcher builds (batcher.ts groupKey), once per line, then looked up.
  const buildKey = (e: BatchEntry): string => {
    let key = `${e.topic}\u0000${e.source}`;
    for (const t of e.tags) key += `\u0000${t.key}\u0001${t.value}`;
    return key;
  };
  const open = new Map([[buildKey(entries[0]!), 1]]);
  const cached = new WeakMap<object, string>();
  let sink = 0;
  const t = best(
    {
      'Batcher.add (agent/batch/batcher.ts)': () => {
        for (const e of entries) sink += batcher.add(e).length;
      },
      'group key built per line + Map.get': () => {
        for (const e of entries) sink += open.get(buildKey(e))!;
      },
      'group key cached per tags array + Map.get': () => {
        for (const e of entries) {
          let k = cached.get(e.tags);
          if (k === undefined) cached.set(e.tags, (k = buildKey(e)));
          sink += open.get(k)!;
        }
      },
    },
    1,
  );
  for (const [name, s] of Object.entries(t)) console.log(`${name.padEnd(50)} ${((s * 1e6) / lines).toFixed(3).padStart(7)} µs per line`);
  if (sink < 0) console.log(sink);
}

console.log(`logseal hot-spot micro benchmark — node ${process.version}${quick ? ', --quick' : ''}`);
aeadAssembly();
batcherKey();
