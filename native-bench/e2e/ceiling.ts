// Reference run in its own process: raw node:crypto over the benchmark's files in 1 MiB chunks (the ceiling), next to the
// agent's own AEAD on the same chunks and the agent's whole seal step done inline on one thread.
// Usage (spawned by native-bench/e2e.ts): node [--import tsx] ceiling.ts '<json CeilingRequest>'   → one JSON line
import { createCipheriv, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { cipherFor } from '../../agent/seal/cipher.js';
import { sealEncodedGroup, type DataKey } from '../../agent/seal/record.js';
import { encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';
import { lz4Compress } from '../../agent/wire/lz4.js';

export interface CeilingRequest {
  files: string[];
  algorithm: 'AES_256_GCM' | 'SM4_128_GCM';
  /** Also seal 4096-line LogGroups inline, as a worker does, in these modes. */
  modes: ('group' | 'log')[];
  /** Passes over the files for the two AEAD measurements; the best pass of each counts. */
  passes: number;
}

export interface CeilingResult {
  algorithm: string;
  bytes: number;
  lines: number;
  chunks: number;
  passes: number;
  /** CPU seconds of each measured step over all the bytes; MB/CPU-s follows from `bytes`. */
  cpu: {
    /** aes-256-gcm (AAD, update, final, tag), or sm4-ctr alone (OpenSSL has no SM4-GCM): best pass. */
    raw: number;
    /** The agent's AeadCipher (backend auto) on the same chunks: best pass. */
    agentAead: number;
    /** Every pass, to show the spread on a shared machine. */
    rawPasses: number[];
    agentAeadPasses: number[];
    /** Per mode, one pass: encode the group, seal it (FORMAT.md), encode the shipped group, LZ4 the PutLogs body. */
    sealStage: Record<string, number>;
  };
  /** The AEAD backend `auto` picked. */
  backend: string;
}

const CHUNK = 1 << 20;
const GROUP_LINES = 4096;

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Every file in 1 MiB chunks; the buffer is reused, so a chunk is valid only until the next one. */
function* chunksOf(files: string[]): Generator<Buffer> {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (const file of files) {
    const fd = openSync(file, 'r');
    try {
      for (let n = readSync(fd, buf, 0, CHUNK, null); n > 0; n = readSync(fd, buf, 0, CHUNK, null)) yield buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }
}

function run(req: CeilingRequest): CeilingResult {
  const aes = req.algorithm === 'AES_256_GCM';
  const key = randomBytes(aes ? 32 : 16);
  const cipher = cipherFor(req.algorithm);
  const aad = Buffer.from(`logseal/1|group|${req.algorithm}|bench|e2e|1763924400|${CHUNK}`);
  let sink = 0; // keeps results alive so no step can be optimised away

  const rawSeal = (data: Uint8Array): void => {
    const nonce = randomBytes(12);
    if (aes) {
      const c = createCipheriv('aes-256-gcm', key, nonce);
      c.setAAD(aad);
      sink += c.update(data).length + c.final().length + c.getAuthTag().length;
    } else {
      sink += createCipheriv('sm4-ctr', key, Buffer.concat([nonce, Buffer.from([0, 0, 0, 2])])).update(data).length;
    }
  };
  const agentSeal = (data: Uint8Array): void => {
    // What the record layer calls: ciphertext and tag as they come out of the cipher, base64-encoded where they lie.
    for (const part of cipher.sealParts(key, randomBytes(12), data, aad)) sink += part.length;
  };

  // ---- the two AEADs, interleaved chunk by chunk (alternating which goes first), best pass of each ----
  let bytes = 0, chunks = 0;
  const rawPasses: number[] = [], agentAeadPasses: number[] = [];
  for (let pass = 0; pass < req.passes; pass++) {
    let raw = 0, agent = 0, i = 0;
    bytes = 0;
    chunks = 0;
    for (const data of chunksOf(req.files)) {
      bytes += data.length;
      chunks++;
      const first = i++ % 2 === 0 ? rawSeal : agentSeal;
      const second = first === rawSeal ? agentSeal : rawSeal;
      const t0 = cpuNow();
      first(data);
      const t1 = cpuNow();
      second(data);
      const t2 = cpuNow();
      if (first === rawSeal) (raw += t1 - t0), (agent += t2 - t1);
      else (agent += t1 - t0), (raw += t2 - t1);
    }
    rawPasses.push(raw);
    agentAeadPasses.push(agent);
  }

  // ---- the agent's seal step on 4096-line groups, as a pool worker runs it (plus encoding the group, done by the input and batcher) ----
  const dataKey: DataKey = { algorithm: req.algorithm, plaintext: Uint8Array.from(key), cmkId: 'key-bench', blob: 'YmxvYi1mb3ItYmVuY2htYXJr' };
  const sealStage = Object.fromEntries(req.modes.map((m) => [m, 0])) as Record<string, number>;
  let lines = 0;
  let pending: Uint8Array[] = [];
  const sealLines = (batch: Uint8Array[]): void => {
    const time = 1_763_924_400;
    const group: LogGroup = {
      topic: 'bench',
      source: '10.0.0.8',
      logTags: [{ key: '__hostname__', value: 'bench-host' }, { key: 'env', value: 'bench' }],
      logs: batch.map((value) => ({ time, contents: [{ key: 'content', value }] })),
    };
    for (const mode of req.modes) {
      const t = cpuNow();
      const { shipped } = sealEncodedGroup(encodeLogGroup(group), dataKey, { project: 'bench', logstore: 'e2e', mode, zip: 'lz4' }, cipher);
      sink += lz4Compress(encodeLogGroup(shipped)).length;
      sealStage[mode]! += cpuNow() - t;
    }
  };
  if (req.modes.length > 0) {
    let carry = Buffer.alloc(0);
    for (const data of chunksOf(req.files)) {
      // A line cut at a chunk border continues in the next chunk (files end with a newline).
      const end = data.lastIndexOf(10);
      if (end < 0) {
        carry = Buffer.concat([carry, data]);
        continue;
      }
      const text = Buffer.concat([carry, data.subarray(0, end + 1)]);
      carry = Buffer.from(data.subarray(end + 1));
      // The raw parser hands the batcher each line as a view of the bytes read, as here.
      for (let start = 0, nl = text.indexOf(10); nl >= 0; start = nl + 1, nl = text.indexOf(10, start)) {
        pending.push(text.subarray(start, nl));
        lines++;
        if (pending.length === GROUP_LINES) {
          sealLines(pending);
          pending = [];
        }
      }
    }
    if (pending.length > 0) sealLines(pending);
  }
  if (sink < 0) console.error(sink);
  return {
    algorithm: req.algorithm,
    bytes,
    lines,
    chunks,
    passes: req.passes,
    cpu: { raw: Math.min(...rawPasses), agentAead: Math.min(...agentAeadPasses), rawPasses, agentAeadPasses, sealStage },
    backend: cipher.backend,
  };
}

process.stdout.write(`${JSON.stringify(run(JSON.parse(process.argv[2]!) as CeilingRequest))}\n`);
