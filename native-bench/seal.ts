// Benchmark: sealing MB/s per suite and backend next to raw node:crypto, SM4/GHASH building blocks, and the worker pool.
// Run: npx tsx native-bench/seal.ts [--quick] [--only=aead|blocks|sm4|log|pool|index]
// (MB = 10^6 bytes of plaintext; rates per CPU-second unless marked wall)
import { createCipheriv, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { deflateSync } from 'node:zlib';
import { GHASH } from '@noble/ciphers/_polyval.js';
import type { AeadCipher, CipherBackend, SealAlgorithm } from '../agent/seal/aead.js';
import { cipherFor } from '../agent/seal/cipher.js';
import { GhashKey } from '../agent/seal/ghash.js';
import { nativeGhash } from '../agent/seal/ghash-native.js';
import { SealPool, type SealJob } from '../agent/seal/pool.js';
import { tokenPath, type SearchIndex } from '../agent/seal/index-tokens.js';
import { sealEncodedGroup, type DataKey, type SealOptions, type SealTarget } from '../agent/seal/record.js';
import { ghashBackend } from '../agent/seal/sm4-gcm.js';
import { addonSm4GcmOn, addonSm4Path, type Sm4Path } from '../agent/seal/sm4-gcm-addon.js';
import { nativeAddon } from '../agent/native/addon.js';
import { preparePayload } from '../agent/ship/payload.js';
import { sm4Ctr, sm4RoundKeys } from '../agent/seal/sm4.js';
import { encodeLogGroup, type LogGroup } from '../agent/wire/loggroup.js';
import { lz4Compress } from '../agent/wire/lz4.js';
import { cpuMs, median, rate as measureRate } from './cpu-rate.js';

const quick = process.argv.includes('--quick');
const MB = 1e6;
const minMs = quick ? 150 : 600;
const algorithms: SealAlgorithm[] = ['AES_256_GCM', 'SM4_128_GCM'];
const backends: CipherBackend[] = ['addon', 'native', 'js'];

/** MB per CPU-second of single-threaded `f` over `bytes` a call (cpu-rate.ts), for this run's length. */
const rate = (bytes: number, f: () => void): number => measureRate(bytes, f, minMs);

/** Median wall and CPU milliseconds per call of an async or sync `f`, after at least `warm` untimed calls and `minMs` of them. */
async function msPerCall(f: () => unknown, reps: number, warm = 10): Promise<{ wall: number; cpu: number }> {
  // The optimising compiler takes a while to settle on the larger functions; a short warm-up overstates their cost.
  const warmStart = performance.now();
  for (let i = 0; i < warm || performance.now() - warmStart < minMs; i++) await f();
  const wall: number[] = [], cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now(), c = cpuMs();
    await f();
    wall.push(performance.now() - t);
    cpu.push(cpuMs() - c);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const fmt = (x: number, w = 8): string => x.toFixed(x >= 100 ? 0 : 1).padStart(w);
const keyFor = (a: SealAlgorithm): Uint8Array => randomBytes(a === 'AES_256_GCM' ? 32 : 16);

// ---- realistic log lines: nginx access lines and application lines, ~150-300 bytes each ----
const paths = ['/api/v1/orders', '/api/v1/users/42', '/static/app.3f9a.js', '/healthz', '/api/v2/search?q=shoes&page=3'];
const agents = ['curl/8.5.0', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0', 'okhttp/4.12.0'];
function logLine(i: number): string {
  const ts = new Date(1_714_550_400_000 + i * 137).toISOString();
  if (i % 3 === 0) {
    return `${ts} INFO  [order-service] [trace=${(i * 2654435761).toString(16).padStart(8, '0')}] order ${100000 + i} accepted for customer ${i % 9973}, total=${(i % 500) + 0.99} CNY, items=${i % 7}`;
  }
  return `10.${i % 256}.${(i >> 8) % 256}.${i % 13} - - [${ts}] "GET ${paths[i % paths.length]} HTTP/1.1" ${i % 50 === 0 ? 500 : 200} ${(i * 7919) % 20000} "-" "${agents[i % agents.length]}" rt=${((i % 900) / 1000).toFixed(3)}`;
}

/** A batch of about `bytes` of log text, as the raw parser delivers it. */
function batchOf(bytes: number, offset = 0): LogGroup {
  const logs: LogGroup['logs'] = [];
  for (let i = offset, total = 0; total < bytes; i++) {
    const line = logLine(i);
    total += line.length;
    logs.push({ time: 1_714_550_400 + Math.floor(i / 50), contents: [{ key: 'content', value: line }] });
  }
  return { topic: 'nginx', source: '10.0.0.8', logTags: [{ key: 'host', value: 'web-1' }], logs };
}

function section(title: string): void {
  console.log(`\n## ${title}`);
}

// ---- 1. AEAD per record size, against raw node:crypto on the same bytes ----
function rawBaseline(algorithm: SealAlgorithm, key: Uint8Array, nonce: Uint8Array, data: Uint8Array): () => void {
  if (algorithm === 'AES_256_GCM') {
    return () => {
      const c = createCipheriv('aes-256-gcm', key, nonce);
      c.update(data);
      c.final();
      c.getAuthTag();
    };
  }
  const iv = Buffer.concat([nonce, Buffer.from([0, 0, 0, 2])]);
  return () => createCipheriv('sm4-ctr', key, iv).update(data);
}

function aeadTable(): void {
  section(
    'AEAD, MB per CPU-second per record size (raw = node:crypto aes-256-gcm, resp. sm4-ctr alone, on the same bytes; ' +
      'parts = sealParts, ciphertext and tag unjoined: what records of 16 KiB and more are sealed with)',
  );
  const sizes: [string, number][] = [['1 KB', 1024], ['64 KB', 64 * 1024], ['1 MB', 1024 * 1024]];
  console.log(
    `${'suite'.padEnd(12)} ${'backend'.padEnd(7)} ${'record'.padStart(6)} ${'seal'.padStart(8)} ${'parts'.padStart(8)} ${'open'.padStart(8)} ${'raw'.padStart(8)} ${'seal/raw'.padStart(9)} ${'parts/raw'.padStart(9)}`,
  );
  for (const algorithm of algorithms) {
    const key = keyFor(algorithm);
    for (const [label, size] of sizes) {
      const data = randomBytes(size), nonce = randomBytes(12), aad = Buffer.from(`logseal/1|group|${algorithm}|demo|app|1714550400|${size}`);
      const raw = rate(size, rawBaseline(algorithm, key, nonce, data));
      for (const backend of backends) {
        const cipher: AeadCipher = cipherFor(algorithm, backend);
        const sealed = cipher.seal(key, nonce, data, aad);
        const s = rate(size, () => cipher.seal(key, nonce, data, aad));
        const p = rate(size, () => cipher.sealParts(key, nonce, data, aad));
        const o = rate(size, () => cipher.open(key, nonce, sealed, aad));
        console.log(
          `${algorithm.padEnd(12)} ${backend.padEnd(7)} ${label.padStart(6)} ${fmt(s)} ${fmt(p)} ${fmt(o)} ${fmt(raw)} ${(s / raw).toFixed(2).padStart(9)} ${(p / raw).toFixed(2).padStart(9)}`,
        );
      }
    }
  }
  console.log(`auto picks: AES_256_GCM → ${cipherFor('AES_256_GCM').backend}, SM4_128_GCM → ${cipherFor('SM4_128_GCM').backend}`);
}

// ---- 2. building blocks of SM4-GCM ----
function blocksTable(): void {
  section('SM4-GCM building blocks, MB per CPU-second on 1 MB');
  const require = createRequire(import.meta.url);
  const smCrypto = require('sm-crypto') as { sm4: { encrypt(i: Uint8Array, k: Uint8Array, o: object): number[] } };
  const key = randomBytes(16), h = randomBytes(16), data = randomBytes(1024 * 1024), counter = randomBytes(16);
  const rk = sm4RoundKeys(key);
  const ours = new GhashKey(h);
  const small = data.subarray(0, 64 * 1024);
  const rows: [string, number][] = [
    ['GHASH, ours (8-bit tables)', rate(data.length, () => ours.digest(new Uint8Array(0), data))],
    ['GHASH, @noble/ciphers (GHASH class)', rate(data.length, () => new GHASH(h, data.length).update(data).digest())],
    ...nativeGhashRows(h, data),
    ['SM4-CTR, ours (table SM4)', rate(data.length, () => sm4Ctr(rk, counter, data))],
    ['SM4-CTR, OpenSSL sm4-ctr', rate(data.length, () => createCipheriv('sm4-ctr', key, counter).update(data))],
    ['SM4-ECB, sm-crypto 0.5.8 (64 KB)', rate(small.length, () => smCrypto.sm4.encrypt(small, key, { padding: 'none', output: 'array' }))],
  ];
  for (const [name, mbs] of rows) console.log(`${name.padEnd(40)} ${fmt(mbs)}`);
  console.log(`native GHASH addon: ${nativeGhash ? `built, backend ${nativeGhash.backend}` : 'not built'}; SM4-GCM uses GHASH: ${ghashBackend}`);
}

/** The addon on this CPU's path, and its portable tables (what a CPU without PCLMULQDQ would get). */
function nativeGhashRows(h: Uint8Array, data: Uint8Array): [string, number][] {
  if (!nativeGhash) return [];
  const none = new Uint8Array(0);
  const rows: [string, number][] = [];
  const native = nativeGhash.create(h);
  rows.push([`GHASH, native addon (${nativeGhash.backend})`, rate(data.length, () => native.digest(none, data))]);
  if (nativeGhash.backend !== 'portable') {
    const portable = nativeGhash.create(h, { portable: true });
    rows.push(['GHASH, native addon (portable, 4-bit)', rate(data.length, () => portable.digest(none, data))]);
  }
  return rows;
}

// ---- 3. a whole batch: seal + encode + compress, inline and through the pool ----
function dataKey(algorithm: SealAlgorithm): DataKey {
  return { algorithm, plaintext: keyFor(algorithm), cmkId: 'key-bench', blob: 'YmxvYi1mb3ItYmVuY2htYXJr' };
}

/** What a pool worker does for one job, on this thread. */
function inlineJob(job: SealJob, cipher: AeadCipher, options?: SealOptions): Uint8Array {
  const { shipped } = sealEncodedGroup('group' in job ? encodeLogGroup(job.group) : job.encoded, job.key, job.target, cipher, options);
  const encoded = encodeLogGroup(shipped);
  return job.compressType === 'lz4' ? lz4Compress(encoded) : job.compressType === 'deflate' ? deflateSync(encoded) : encoded;
}

function textBytes(group: LogGroup): number {
  let n = 0;
  for (const log of group.logs) for (const c of log.contents) n += typeof c.value === 'string' ? c.value.length : c.value.length;
  return n;
}

async function poolTables(): Promise<void> {
  const threads = availableParallelism();
  const target: SealTarget = { project: 'demo', logstore: 'app', mode: 'group', zip: 'lz4' };

  section(`one 1 MiB batch of log lines (${batchOf(1 << 20).logs.length} lines), group mode, zip lz4, PutLogs body lz4: median ms per batch`);
  const pool1 = new SealPool({ threads: 1, maxQueue: 0 });
  // Booting a worker (and compiling this TypeScript in it) takes CPU time that process.cpuUsage() counts.
  const warmUp = (pool: SealPool, n: number) =>
    Promise.all(Array.from({ length: n }, () => pool.seal({ group: batchOf(64 * 1024), key: dataKey('SM4_128_GCM'), target, compressType: 'lz4' })));
  await warmUp(pool1, 4);
  try {
    for (const algorithm of algorithms) {
      const job: SealJob = { group: batchOf(1 << 20), key: dataKey(algorithm), target, compressType: 'lz4' };
      const cipher = cipherFor(algorithm);
      const reps = quick ? 10 : 40;
      const inline = await msPerCall(() => inlineJob(job, cipher), reps);
      const encodeOnly = await msPerCall(() => encodeLogGroup(job.group), reps);
      const pooled = await msPerCall(() => pool1.seal(job), reps);
      console.log(
        `${algorithm.padEnd(12)} inline: ${inline.cpu.toFixed(1)} ms CPU (encoding the batch ${encodeOnly.cpu.toFixed(1)} ms)   ` +
          `through the pool: ${pooled.wall.toFixed(1)} ms wall, ${pooled.cpu.toFixed(1)} ms CPU in all threads`,
      );
    }

    section('per-task overhead: a one-line batch, awaited one at a time (median)');
    const tiny: SealJob = { group: batchOf(1), key: dataKey('AES_256_GCM'), target, compressType: 'lz4' };
    const cipher = cipherFor('AES_256_GCM');
    const n = quick ? 300 : 2000;
    const inline = await msPerCall(() => inlineJob(tiny, cipher), n, 200);
    const pooled = await msPerCall(() => pool1.seal(tiny), n, 200);
    const us = (x: number) => `${(x * 1000).toFixed(0)} µs`;
    console.log(`inline ${us(inline.wall)}; pool ${us(pooled.wall)} wall, ${us(pooled.cpu)} CPU → overhead ≈ ${us(pooled.wall - inline.wall)} latency, ${us(pooled.cpu - inline.cpu)} CPU per job`);
  } finally {
    await pool1.close();
  }

  section(`pool throughput, ${threads} threads, queue kept full, group mode, zip lz4, body lz4 (log text MB)`);
  const pool = new SealPool({ threads });
  await warmUp(pool, threads * 4);
  try {
    const sizes = quick ? [256 * 1024, 1 << 20] : [64 * 1024, 256 * 1024, 1 << 20, 4 << 20];
    console.log(`${'suite'.padEnd(12)} ${'batch'.padStart(8)} ${'inline MB/CPU-s'.padStart(16)} ${'pool MB/s wall'.padStart(15)} ${'pool MB/CPU-s'.padStart(14)}`);
    for (const algorithm of algorithms) {
      const cipher = cipherFor(algorithm);
      for (const size of sizes) {
        const groups = Array.from({ length: 4 }, (_, i) => batchOf(size, i * 100_000));
        const bytes = textBytes(groups[0]);
        const key = dataKey(algorithm);
        const jobs = groups.map((group): SealJob => ({ group, key, target, compressType: 'lz4' }));
        let k = 0;
        const inline = rate(bytes, () => inlineJob(jobs[k++ % jobs.length], cipher));
        const total = Math.max(threads * 4, Math.ceil(((quick ? 8 : 32) << 20) / size));
        await Promise.all(Array.from({ length: threads * 4 }, (_, i) => pool.seal(jobs[i % jobs.length]))); // warm every worker
        const wall: number[] = [], perCpu: number[] = [];
        for (let trial = 0; trial < 3; trial++) {
          const t = performance.now(), c = cpuMs();
          await Promise.all(Array.from({ length: total }, (_, i) => pool.seal(jobs[i % jobs.length])));
          wall.push((total * bytes) / MB / ((performance.now() - t) / 1000));
          perCpu.push((total * bytes) / MB / ((cpuMs() - c) / 1000));
        }
        const label = size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`;
        console.log(`${algorithm.padEnd(12)} ${label.padStart(8)} ${fmt(inline, 16)} ${fmt(median(wall), 15)} ${fmt(median(perCpu), 14)}`);
      }
    }
  } finally {
    await pool.close();
  }
}

// ---- 4. the addon's SM4-GCM against OpenSSL's sm4-ctr, interleaved in this process ----
function sm4AddonTable(): void {
  section("addon SM4-GCM (seal, GHASH included) vs OpenSSL 3.0 sm4-ctr (no GHASH) on 1 MiB, MB per CPU-second, 5 interleaved rounds, median");
  if (!nativeAddon) {
    console.log('addon not built');
    return;
  }
  const key = randomBytes(16), nonce = randomBytes(12), data = randomBytes(1 << 20), aad = new Uint8Array(0);
  const iv = Buffer.concat([nonce, Buffer.from([0, 0, 0, 2])]);
  const paths = (['avx512', 'gfni', 'vaes', 'aesni', 'portable'] as Sm4Path[]).filter((p) => {
    try {
      nativeAddon!.sm4GcmInit(key, p);
      return true;
    } catch {
      return false;
    }
  });
  const ratios = new Map<Sm4Path, number[]>(), mbs = new Map<string, number[]>();
  const out = new Uint8Array(data.length);
  for (let round = 0; round < 5; round++) {
    const openssl = rate(data.length, () => createCipheriv('sm4-ctr', key, iv).update(data));
    mbs.set('openssl', [...(mbs.get('openssl') ?? []), openssl]);
    for (const path of paths) {
      const cipher = addonSm4GcmOn(path)!;
      const input = path === 'portable' ? data.subarray(0, 64 * 1024) : data;
      const ours = rate(input.length, () => cipher.seal(key, nonce, input, aad));
      mbs.set(path, [...(mbs.get(path) ?? []), ours]);
      ratios.set(path, [...(ratios.get(path) ?? []), ours / openssl]);
      // The block cipher alone (ECB, what the key streams of mode `log` batches are made with).
      const state = nativeAddon!.sm4GcmInit(key, path);
      const ecb = rate(input.length, () => nativeAddon!.sm4EncryptBlocks(state, input, out.subarray(0, input.length)));
      mbs.set(`ecb ${path}`, [...(mbs.get(`ecb ${path}`) ?? []), ecb]);
    }
  }
  console.log(`${'OpenSSL sm4-ctr'.padEnd(28)} ${fmt(median(mbs.get('openssl')!))} MB/CPU-s`);
  for (const path of paths) {
    const r = ratios.get(path)!;
    console.log(
      `${`addon SM4-GCM, ${path}`.padEnd(28)} ${fmt(median(mbs.get(path)!))} MB/CPU-s   ${median(r).toFixed(2)}x sm4-ctr (rounds ${r.map((x) => x.toFixed(2)).join(' ')})`,
    );
  }
  for (const path of paths) console.log(`${`addon SM4-ECB, ${path}`.padEnd(28)} ${fmt(median(mbs.get(`ecb ${path}`)!))} MB/CPU-s   (the block cipher alone)`);
  console.log(`default path on this CPU: ${addonSm4Path}; auto picks for SM4_128_GCM: ${cipherFor('SM4_128_GCM').backend}`);
}

// ---- 5. mode log: the worker's step for one batch, sealed a batch per call vs record by record ----
function logModeTable(): void {
  const group = batchOf(1 << 20);
  const encoded = encodeLogGroup(group);
  const bytes = textBytes(group);
  // The step as the agent runs it: sls.compress auto sends mode log bodies uncompressed (base64 of ciphertext), so the
  // body's cost after the encode is its Content-MD5.
  section(`mode log, one 1 MiB batch (${group.logs.length} lines): seal (+ encode + MD5 of the PutLogs body, uncompressed as sls.compress auto sends it), log text MB per CPU-second, 5 interleaved rounds, median`);
  const target: SealTarget = { project: 'demo', logstore: 'app', mode: 'log', zip: 'none' };
  console.log(`${'suite'.padEnd(12)} ${'batch seal'.padStart(11)} ${'record seal'.padStart(12)} ${'batch step'.padStart(11)} ${'record step'.padStart(12)} ${'step ratio'.padStart(11)}`);
  for (const algorithm of algorithms) {
    const key = dataKey(algorithm), cipher = cipherFor(algorithm);
    const seal = (batch: boolean) => () => sealEncodedGroup(encoded, key, target, cipher, { batch });
    const step = (batch: boolean) => () => preparePayload(encodeLogGroup(sealEncodedGroup(encoded, key, target, cipher, { batch }).shipped), 'none');
    const rows: number[][] = [[], [], [], []];
    for (let round = 0; round < 5; round++) {
      rows[0].push(rate(bytes, seal(true)));
      rows[1].push(rate(bytes, seal(false)));
      rows[2].push(rate(bytes, step(true)));
      rows[3].push(rate(bytes, step(false)));
    }
    const ratio = rows[2].map((b, i) => b / rows[3][i]);
    console.log(`${algorithm.padEnd(12)} ${fmt(median(rows[0]), 11)} ${fmt(median(rows[1]), 12)} ${fmt(median(rows[2]), 11)} ${fmt(median(rows[3]), 12)} ${`${median(ratio).toFixed(2)}x`.padStart(11)}`);
  }
}

// ---- 6. searchable fields: the worker's cost of computing tokens, indexed against not indexed, same batches ----
function indexTable(): void {
  section('searchable fields (seal.index): a worker job (seal + encode) on 1 MiB batches, group mode, zip lz4 (last row: mode log), AES; ratio indexed / not indexed');
  const levels = ['INFO', 'INFO', 'INFO', 'WARN', 'ERROR'];
  // Structured logs as the json parser delivers them: a user among 2000, a level among 3, the line itself.
  const structured = (offset: number): LogGroup => {
    const g = batchOf(1 << 20, offset);
    g.logs.forEach((log, j) => {
      const i = offset + j;
      log.contents = [{ key: 'user', value: `user-${(i * 7919) % 2000}` }, { key: 'level', value: levels[i % levels.length] }, ...log.contents];
    });
    return g;
  };
  const encoded = Array.from({ length: 4 }, (_, i) => encodeLogGroup(structured(i * 100_000)));
  const bytes = encoded[0].length;
  const target: SealTarget = { project: 'demo', logstore: 'app', mode: 'group', zip: 'lz4' };
  const key = dataKey('AES_256_GCM');
  const cipher = cipherFor('AES_256_GCM');
  const indexKey = randomBytes(32);
  let blob = 0;
  const logTarget: SealTarget = { ...target, mode: 'log', zip: 'none' };
  const cases: [string, () => SearchIndex | undefined, SealTarget][] = [
    ['user, level; tokens cached across batches (recurring values)', () => ({ key: indexKey, fields: ['user', 'level'], blob: 'warm' }), target],
    ['user, level; cache emptied before every batch', () => ({ key: indexKey, fields: ['user', 'level'], blob: `cold-${blob++}` }), target],
    ['content (every line distinct), level; cache emptied every batch', () => ({ key: indexKey, fields: ['content', 'level'], blob: `cold-${blob++}` }), target],
    ['mode log: user, level; tokens cached (one list per log)', () => ({ key: indexKey, fields: ['user', 'level'], blob: 'warm' }), logTarget],
  ];
  console.log(`${encoded.length} batches of ${(bytes / MB).toFixed(2)} MB encoded (${structured(0).logs.length} logs each); MB of encoded batch per CPU-second; tokens: ${tokenPath}`);
  console.log(`${'indexed fields'.padEnd(66)} ${'plain'.padStart(8)} ${'indexed'.padStart(8)} ${'ratio'.padStart(6)}  ratio per round`);
  const rounds = quick ? 3 : 5;
  for (const [label, index, to] of cases) {
    const job = (i: number): SealJob => ({ encoded: encoded[i % encoded.length], logCount: 0, key, target: to, compressType: 'none' });
    // Both sides seal the same batch, in turn.
    const plainJob = (i: number) => inlineJob(job(i), cipher);
    const indexedJob = (i: number) => inlineJob(job(i), cipher, { index: index()! });
    // Plain and indexed jobs alternate one by one, each timed on its own: a disturbance from other work on the
    // machine (which shifts whole seconds) hits both sides of a round alike. The ratio reported is the median of
    // the rounds' ratios.
    const warm = performance.now();
    for (let i = 0; performance.now() - warm < minMs / 2; i++) {
      plainJob(i);
      indexedJob(i);
    }
    const plain: number[] = [], indexed: number[] = [], ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      let n = 0, plainCpu = 0, indexedCpu = 0;
      const start = performance.now();
      do {
        const c0 = cpuMs();
        plainJob(n);
        const c1 = cpuMs();
        indexedJob(n);
        plainCpu += c1 - c0;
        indexedCpu += cpuMs() - c1;
        n++;
      } while (performance.now() - start < minMs);
      plain.push((n * bytes) / MB / (plainCpu / 1000));
      indexed.push((n * bytes) / MB / (indexedCpu / 1000));
      ratios.push(plainCpu / indexedCpu);
    }
    const each = ratios.map((r) => r.toFixed(2)).join(' ');
    console.log(`${label.padEnd(66)} ${fmt(median(plain))} ${fmt(median(indexed))} ${median(ratios).toFixed(2).padStart(6)}  ${each}`);
  }
}

console.log(`logseal seal benchmark — node ${process.version}, ${availableParallelism()} CPUs${quick ? ', --quick' : ''}`);
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? (process.argv.includes('--only-index') ? 'index' : undefined);
if (!only || only === 'aead') aeadTable();
if (!only || only === 'blocks') blocksTable();
if (!only || only === 'sm4') sm4AddonTable();
if (!only || only === 'log') logModeTable();
if (!only || only === 'pool') await poolTables();
if (!only || only === 'index') indexTable();
