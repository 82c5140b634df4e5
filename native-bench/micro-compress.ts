// Micro benchmark: LZ4 block (`lz4` package) against what node:zlib offers without new packages, on the two things the agent
// compresses — a plaintext LogGroup before sealing (`seal.zip`) and the sealed LogGroup as PutLogs body (`sls.compress`).
// Run: npx tsx native-bench/micro-compress.ts [--quick]      (MB = 10^6 bytes of input; one thread; best of interleaved rounds)
import { brotliCompressSync, constants, deflateSync, inflateSync } from 'node:zlib';
import { lz4Compress, lz4Decompress } from '../agent/wire/lz4.js';
import { GROUPS, plaintextGroups, sealedBodies } from './bench-bodies.js';

const quick = process.argv.includes('--quick');
const MB = 1e6;

interface Codec {
  name: string;
  compress(b: Uint8Array): Uint8Array;
  decompress?(c: Uint8Array, rawSize: number): Uint8Array;
}

const codecs: Codec[] = [
  { name: 'lz4 block (lz4 0.6.5)', compress: lz4Compress, decompress: lz4Decompress },
  { name: 'zlib deflate level 1', compress: (b) => deflateSync(b, { level: 1 }), decompress: (c) => inflateSync(c) },
  { name: 'zlib deflate level 6 (default)', compress: (b) => deflateSync(b), decompress: (c) => inflateSync(c) },
  { name: 'brotli quality 1', compress: (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }) },
  { name: 'none', compress: (b) => b, decompress: (c) => c },
];

/** Seconds per call of each case, best of interleaved rounds (load from other processes hits every case alike). */
function best(cases: (() => unknown)[], ms: number): number[] {
  const out = cases.map(() => Infinity);
  cases.forEach((f) => f());
  for (let round = 0; round < 5; round++) {
    cases.forEach((f, i) => {
      let n = 0;
      const start = performance.now();
      let now = start;
      while (now - start < ms / 5 || n < 2) {
        f();
        n++;
        now = performance.now();
      }
      out[i] = Math.min(out[i]!, (now - start) / 1000 / n);
    });
  }
  return out;
}

function table(title: string, inputs: Uint8Array[]): void {
  const total = inputs.reduce((n, b) => n + b.length, 0);
  console.log(`\n## ${title}: ${GROUPS} inputs, ${(total / GROUPS / MB).toFixed(2)} MB each`);
  console.log(`${'codec'.padEnd(32)} ${'ratio'.padStart(6)} ${'compress MB/s'.padStart(14)} ${'decompress MB/s'.padStart(16)}`);
  const ms = quick ? 600 : 3000;
  const compressed = codecs.map((c) => inputs.map((b) => c.compress(b)));
  const tc = best(codecs.map((c) => () => inputs.forEach((b) => c.compress(b))), ms);
  const td = best(
    codecs.map((c, i) => () => {
      if (c.decompress) compressed[i]!.forEach((z, j) => c.decompress!(z, inputs[j]!.length));
    }),
    ms,
  );
  codecs.forEach((c, i) => {
    const size = compressed[i]!.reduce((n, z) => n + z.length, 0);
    const comp = c.name === 'none' ? '-' : (total / MB / tc[i]!).toFixed(0);
    const decomp = !c.decompress || c.name === 'none' ? '-' : (total / MB / td[i]!).toFixed(0);
    console.log(`${c.name.padEnd(32)} ${(size / total).toFixed(3).padStart(6)} ${comp.padStart(14)} ${decomp.padStart(16)}`);
  });
}

console.log(`logseal compression micro benchmark — node ${process.version}${quick ? ', --quick' : ''}; ratio = compressed / input`);
const plain = plaintextGroups();
table('plaintext LogGroup, 4096 generated lines (what seal.zip compresses; FORMAT.md allows lz4 or none)', plain);
table('sealed LogGroup, mode group, AES (the PutLogs body: base64 ciphertext of the lz4 plaintext)', sealedBodies(plain, 'group'));
table('sealed LogGroup, mode log, AES (the PutLogs body: one base64 record per line)', sealedBodies(plain, 'log'));
