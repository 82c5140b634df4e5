// Micro benchmark of costs the end-to-end profile points at (RESULTS.md, "what bounds it"): assembling a sealed record
// with Buffer.concat after node:crypto, the main thread's work per line from a read chunk to an encoded batch, and how
// a sealed record's base64 text is best written into the PutLogs body.
// Run: npx tsx native-bench/micro-hotspots.ts [--quick]      (best of interleaved rounds, one thread)
import { createCipheriv, randomBytes, randomInt } from 'node:crypto';
import { Batcher } from '../agent/batch/batcher.js';
import { canFrameLines, encodeContents, LogWriter } from '../agent/wire/log-writer.js';
import { encodeLogGroup, type Log } from '../agent/wire/loggroup.js';
import { cipherFor } from '../agent/seal/cipher.js';
import { writeBase64 } from '../agent/wire/base64.js';

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
      'agent nativeAesGcm.sealParts (what records use)': () => agent.sealParts(key, randomBytes(12), data, aad),
    },
    quick ? 30 : 100,
  );
  const raw = t['raw: update + final + getAuthTag']!;
  for (const [name, s] of Object.entries(t)) console.log(`${name.padEnd(50)} ${((1 << 20) / 1e6 / s).toFixed(0).padStart(6)} MB/s  ${(raw / s).toFixed(2)} of raw`);
}

function perLine(): void {
  console.log('\n## main thread, per line: from a read chunk of lines to encoded 4096-line batches');
  const tags = [
    { key: 'env', value: 'bench' },
    { key: '__hostname__', value: 'bench-host.example.internal' },
    { key: '__path__', value: '/var/log/app/app-3.log' },
  ];
  const topic = 'bench', source = '10.0.0.8', fileId = '2049:123456', time = 1_763_924_400, timeNs = 123_456_789;
  // 512 KiB chunks of lines of 40..400 bytes (mean ~220), as the input reads them.
  const chunks: Buffer[] = [];
  let lines = 0;
  for (let c = 0, i = 0; c < 16; c++) {
    const parts: Buffer[] = [];
    for (let size = 0; size < 512 * 1024; i++, lines++) {
      const line = Buffer.from(`${'x'.repeat(40 + ((i * 7919) % 360))}\n`);
      parts.push(line);
      size += line.length;
    }
    chunks.push(Buffer.concat(parts));
  }
  let sink = 0;
  const t = best(
    {
      // What the input and batcher did before (revision d5f5d8c): a Log, a contents array, a Content, a view and an
      // entry object per line, then the batch encoded from the objects.
      'objects per line, then encodeLogGroup (before)': () => {
        let logs: Log[] = [];
        for (const buf of chunks) {
          for (let pos = 0, nl = buf.indexOf(10); nl !== -1; pos = nl + 1, nl = buf.indexOf(10, pos)) {
            const log: Log = { time, contents: [{ key: 'content', value: new Uint8Array(buf.buffer, buf.byteOffset + pos, nl - pos) }], timeNs };
            const entry = { log, topic, source, tags, fileId, endOffset: nl + 1 };
            logs.push(entry.log);
            if (logs.length === 4096) {
              sink += encodeLogGroup({ logs, topic, source, logTags: tags }).length;
              logs = [];
            }
          }
        }
      },
      'LogWriter.line per line, Batcher.add per run': () => {
        const writer = new LogWriter('content', encodeContents([]));
        const batcher = new Batcher({ maxBytes: 4 << 20, maxLogs: 4096, lingerMs: 200 });
        for (const buf of chunks) {
          writer.reserve(buf.length);
          let n = 0;
          const offsets = new Float64Array(buf.length >>> 4);
          for (let pos = 0, nl = buf.indexOf(10); nl !== -1; pos = nl + 1, nl = buf.indexOf(10, pos)) {
            writer.line(time, timeNs, buf, pos, nl);
            offsets[n++] = nl + 1;
          }
          const logs = writer.take()!;
          const run = { ...logs, offsets, startOffset: 0, topic, source, tags, fileId, input: 0 };
          for (const b of batcher.add(run)) sink += b.encoded.length;
        }
        for (const b of batcher.flushAll()) sink += b.encoded.length;
      },
      ...(canFrameLines
        ? {
            'LogWriter.lines per chunk (native), Batcher.add per run (now)': () => {
              const writer = new LogWriter('content', encodeContents([]));
              const batcher = new Batcher({ maxBytes: 4 << 20, maxLogs: 4096, lingerMs: 200 });
              let offsets = new Float64Array(0);
              const offsetsFor = (n: number) => (n > offsets.length ? (offsets = new Float64Array(n)) : offsets);
              for (const buf of chunks) {
                writer.reserve(buf.length);
                writer.lines(time, timeNs, buf, 0, buf.length, 512 * 1024, 0, offsetsFor);
                const logs = writer.take()!;
                const run = { ...logs, offsets: offsets.slice(0, logs.count), startOffset: 0, topic, source, tags, fileId, input: 0 };
                for (const b of batcher.add(run)) sink += b.encoded.length;
              }
              for (const b of batcher.flushAll()) sink += b.encoded.length;
            },
          }
        : {}),
    },
    1,
  );
  const before = t['objects per line, then encodeLogGroup (before)']!;
  for (const [name, s] of Object.entries(t)) {
    console.log(`${name.padEnd(62)} ${((s * 1e6) / lines).toFixed(3).padStart(7)} µs per line  ${(before / s).toFixed(2)}x the object path`);
  }
  if (sink < 0) console.log(sink);
}

function recordText(): void {
  console.log('\n## the base64 text of a sealed record into the PutLogs body: as a string (before), or written as bytes (writeBase64)');
  const key = randomBytes(32), nonce = randomBytes(12), aad = Buffer.from('logseal/1|log|AES_256_GCM|bench|e2e|1763924400|0');
  const agent = cipherFor('AES_256_GCM', 'native');
  const sets = {
    'mode log, 40-400 bytes': Array.from({ length: 2000 }, (_, i) => randomBytes(40 + ((i * 7919) % 360))),
    'mode group, ~230 KB (4096 lines after LZ4)': Array.from({ length: 8 }, () => randomBytes(230_000 + randomInt(0, 1000))),
  };
  const base64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
  const body = Buffer.alloc(1 << 20);
  let sink = 0;
  for (const [label, records] of Object.entries(sets)) {
    const t = best(
      {
        'string: base64(nonce) + base64(parts), then utf8 into the body (before)': () => {
          for (const r of records) {
            const [first, ...rest] = agent.sealParts(key, nonce, r, aad);
            const whole = first.length - (first.length % 3);
            const text = base64(nonce) + base64(first.subarray(0, whole)) + base64(Buffer.concat([first.subarray(whole), ...rest]));
            sink += body.write(text, 0, Buffer.byteLength(text), 'utf8');
          }
        },
        'writeBase64 into the body, native addon': () => {
          for (const r of records) sink += writeBase64([nonce, ...agent.sealParts(key, nonce, r, aad)], body, 0, 'native');
        },
        'writeBase64 into the body, Buffer fallback': () => {
          for (const r of records) sink += writeBase64([nonce, ...agent.sealParts(key, nonce, r, aad)], body, 0, 'js');
        },
      },
      label.startsWith('mode log') ? 1 : 3,
    );
    console.log(`${label}:`);
    for (const [name, s] of Object.entries(t)) console.log(`  ${name.padEnd(72)} ${((s * 1e6) / records.length).toFixed(2).padStart(8)} µs per record`);
  }
  if (sink < 0) console.log(sink);
}

console.log(`logseal hot-spot micro benchmark — node ${process.version}${quick ? ', --quick' : ''}`);
aeadAssembly();
perLine();
recordText();
