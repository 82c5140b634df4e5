// Part of bench:codec: PutLogs body compression, lz4 against zstd (sls.compress), on the e2e benchmark's generated lines.
// Size ratio and MB per CPU-second (process.cpuUsage, one thread), each codec next to lz4 measured in the same process.
import { deflateSync, inflateSync } from 'node:zlib';
import { lz4Compress, lz4Decompress } from '../agent/wire/lz4.js';
import { GROUPS, plaintextGroups, sealedBodies } from './bench-bodies.js';
import { zstdCompress, zstdDecompress, zstdUnavailable } from '../agent/wire/zstd.js';

const MB = 1e6;

interface Codec {
  name: string;
  compress(b: Uint8Array): Uint8Array;
  decompress(c: Uint8Array, rawSize: number): Uint8Array;
}

/** CPU seconds per pass over `inputs`, best of interleaved rounds. */
function cpuPerPass(cases: (() => void)[], ms: number): number[] {
  const out = cases.map(() => Infinity);
  cases.forEach((f) => f());
  for (let round = 0; round < 5; round++) {
    cases.forEach((f, i) => {
      let n = 0;
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      while (performance.now() - start < ms / 5 || n < 2) {
        f();
        n++;
      }
      const cpu = process.cpuUsage(cpu0);
      out[i] = Math.min(out[i]!, (cpu.user + cpu.system) / 1e6 / n);
    });
  }
  return out;
}

function table(title: string, inputs: Uint8Array[], codecs: Codec[], ms: number): void {
  const total = inputs.reduce((n, b) => n + b.length, 0);
  console.log(`\n## ${title}: ${GROUPS} bodies, ${(total / GROUPS / MB).toFixed(2)} MB each`);
  console.log(`${'codec'.padEnd(22)} ${'ratio'.padStart(6)} ${'compress MB/CPU-s'.padStart(18)} ${'vs lz4'.padStart(7)} ${'decompress MB/CPU-s'.padStart(20)} ${'vs lz4'.padStart(7)}`);
  const packed = codecs.map((c) => inputs.map((b) => c.compress(b)));
  packed.forEach((zs, i) => zs.forEach((z, j) => {
    if (Buffer.compare(codecs[i]!.decompress(z, inputs[j]!.length), inputs[j]!) !== 0) throw new Error(`${codecs[i]!.name} does not round-trip`);
  }));
  const tc = cpuPerPass(codecs.map((c) => () => inputs.forEach((b) => c.compress(b))), ms);
  const td = cpuPerPass(codecs.map((c, i) => () => packed[i]!.forEach((z, j) => c.decompress(z, inputs[j]!.length))), ms);
  codecs.forEach((c, i) => {
    const size = packed[i]!.reduce((n, z) => n + z.length, 0);
    console.log(
      `${c.name.padEnd(22)} ${(size / total).toFixed(3).padStart(6)} ${(total / MB / tc[i]!).toFixed(0).padStart(18)} ${(tc[0]! / tc[i]!).toFixed(2).padStart(7)} ` +
        `${(total / MB / td[i]!).toFixed(0).padStart(20)} ${(td[0]! / td[i]!).toFixed(2).padStart(7)}`,
    );
  });
}

export function bodyCodecTables(quick: boolean): void {
  const missing = zstdUnavailable();
  if (missing) {
    console.log(`\nPutLogs body codecs: skipped, ${missing}`);
    return;
  }
  const codecs: Codec[] = [
    { name: 'lz4 (lz4 0.6.5)', compress: lz4Compress, decompress: lz4Decompress },
    { name: 'zstd level 1', compress: (b) => zstdCompress(b, 1), decompress: (c) => zstdDecompress(c) },
    { name: 'zstd level 3', compress: (b) => zstdCompress(b, 3), decompress: (c) => zstdDecompress(c) },
    { name: 'deflate level 6', compress: (b) => deflateSync(b), decompress: (c) => inflateSync(c) },
  ];
  const ms = quick ? 600 : 3000;
  const plain = plaintextGroups();
  console.log(`\nPutLogs body codecs (sls.compress), ratio = compressed / body; zstd by zstd-napi; CPU of this thread, best of 5 interleaved rounds`);
  table('sealed, mode log (one base64 record per line)', sealedBodies(plain, 'log', 'lz4'), codecs, ms);
  table('sealed, mode group, zip none (base64 ciphertext of the plain LogGroup)', sealedBodies(plain, 'group', 'none'), codecs, ms);
  table('sealed, mode group, zip lz4 (sls.compress auto sends these uncompressed)', sealedBodies(plain, 'group', 'lz4'), codecs, ms);
  table('plaintext LogGroup (for reference: what an unencrypted shipper compresses)', plain, codecs, ms);
}
