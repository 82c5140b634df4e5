// Benchmark: opening and printing a PullLogs page on one thread, the work of a decrypt worker. The addon's opener
// (open-group.c, one call per shipped group) against the JavaScript record layer on the same page, and against raw
// node:crypto decrypting the same number of sealed bytes (the floor any reader pays), per suite and mode.
// Run: npx tsx native-bench/open.ts [--quick] [--format ndjson|raw|count]
// MB = 10^6 bytes of log text (the lines as the files held them); rates per CPU-second of this single thread.
import { createDecipheriv, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { compileView, type OutputFormat } from '../agent/decrypt/index.js';
import { pageGroups, renderPage } from '../agent/decrypt/open-page.js';
import { nativeAddon } from '../agent/native/addon.js';
import type { SealAlgorithm } from '../agent/seal/aead.js';
import { cipherFor, sealGroup, type DataKey, type SealTarget } from '../agent/seal/index.js';
import { decodeLogGroupList, encodeLogGroupList, type LogGroup } from '../agent/wire/loggroup.js';
import { rate as measureRate } from './cpu-rate.js';
import { LineSource } from './e2e/dataset.js';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, format: { type: 'string', default: 'ndjson' } } });
const format = args.format as OutputFormat;
if (!['ndjson', 'raw', 'count'].includes(format)) throw new Error(`--format: expected ndjson, raw or count, got ${format}`);
const MB = 1e6;
const minMs = args.quick ? 300 : 1500;
const target = { project: 'bench', logstore: 'read' };

/** MB per CPU-second of `f` over `bytes` of text a call (cpu-rate.ts). */
const rate = (bytes: number, f: () => void): number => measureRate(bytes, f, minMs);

/** Four groups of 1 MiB of the benchmark's own log lines (bench:e2e's mix), as the agent batches them. */
function groups(): { groups: LogGroup[]; textBytes: number } {
  const source = new LineSource(12345);
  const out: LogGroup[] = [];
  let textBytes = 0;
  for (let g = 0; g < 4; g++) {
    const logs: LogGroup['logs'] = [];
    let size = 0;
    while (size < 2 ** 20) {
      const line = source.next();
      logs.push({ time: 1_700_000_000 + (logs.length >> 10), timeNs: logs.length * 1000, contents: [{ key: 'content', value: line.text }] });
      size += line.bytes;
    }
    textBytes += size;
    out.push({ topic: 'app', source: '10.0.0.1', logTags: [{ key: '__path__', value: '/var/log/app/app-0.log' }], logs });
  }
  return { groups: out, textBytes };
}

function main(): void {
  const addon = nativeAddon?.openSealedGroup !== undefined;
  console.log(`logseal page-opening benchmark — Node ${process.version}, one thread, format ${format}, addon opener ${addon ? 'built' : 'NOT built'}`);
  console.log(`command: npx tsx native-bench/open.ts ${process.argv.slice(2).join(' ')}`.trim());
  const { groups: plain, textBytes } = groups();
  console.log(`page: 4 groups, ${(textBytes / MB).toFixed(2)} MB of log text, ${plain.reduce((n, g) => n + g.logs.length, 0)} lines`);
  console.log('');
  console.log('suite        mode    addon MB/CPU-s  record layer  raw node:crypto  addon ÷ record layer  addon ÷ node:crypto');
  const view = compileView({ format });
  for (const algorithm of ['AES_256_GCM', 'SM4_128_GCM'] as SealAlgorithm[]) {
    const key: DataKey = { algorithm, plaintext: new Uint8Array(randomBytes(algorithm === 'AES_256_GCM' ? 32 : 16)), cmkId: 'cmk', blob: `blob-${algorithm}` };
    const keyFor = (blob: string) => (blob === key.blob ? key.plaintext : undefined);
    for (const mode of ['group', 'log'] as const) {
      const t: SealTarget = { ...target, mode, zip: mode === 'group' ? 'lz4' : 'none' };
      const list = Buffer.from(encodeLogGroupList(plain.map((g) => sealGroup(g, key, t, cipherFor(algorithm)))));
      // As a decrypt worker does: one output buffer, reused page after page.
      const into = Buffer.allocUnsafeSlow(list.length * 4);
      const native = rate(textBytes, () => renderPage(list, pageGroups(list, true), keyFor, target, view, [], into.length, into));
      const js = rate(textBytes, () => renderPage(list, pageGroups(list, false), keyFor, target, view, [], into.length, into));
      // The floor: node:crypto AES-256-GCM decrypting as many sealed bytes, in as many records, as the page holds.
      const records = decodeLogGroupList(list).flatMap((g) => g.logs.map((l) => Buffer.from(l.contents[0]!.value as string, 'base64')));
      const aesKey = randomBytes(32);
      const floor = rate(textBytes, () => {
        for (const r of records) {
          const d = createDecipheriv('aes-256-gcm', aesKey, r.subarray(0, 12));
          d.update(r.subarray(12, r.length - 16));
        }
      });
      const name = algorithm === 'AES_256_GCM' ? 'AES' : 'SM4';
      console.log(
        `${name.padEnd(11)}  ${mode.padEnd(6)}  ${native.toFixed(0).padStart(14)}  ${js.toFixed(0).padStart(12)}  ${floor.toFixed(0).padStart(15)}  ` +
          `${(native / js).toFixed(2).padStart(20)}  ${(native / floor).toFixed(2).padStart(19)}`,
      );
    }
  }
  console.log('');
  console.log('raw node:crypto: one createDecipheriv and update per record (no tag check, no base64, no output): what opening the');
  console.log('same records through node:crypto costs at least. The addon runs AES through the same OpenSSL.');
}

main();
