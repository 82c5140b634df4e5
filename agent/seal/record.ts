// The FORMAT.md v1 record layer: a plaintext LogGroup in, the sealed LogGroup that is shipped out, and back.
import { randomFillSync } from 'node:crypto';
import { decodeLogGroup, encodeLogGroup, type Log, type LogContent, type LogGroup, type LogTag } from '../wire/loggroup.js';
import { base64Length, writeBase64 } from '../wire/base64.js';
import { varintLength, writeVarint } from '../wire/loggroup-encoder.js';
import { lz4Bound, lz4CompressInto, lz4Decompress } from '../wire/lz4.js';
import { AuthenticationError, checkKeySize, nonceLength, tagLength, type AeadCipher, type SealAlgorithm } from './aead.js';
import { cipherFor } from './cipher.js';
import { chunkBytes, chunkSize, scanBounds, scanGroup, type GroupBounds, type ScannedGroup } from './encoded-group.js';
import { batchSealerFor, type SealLogRecords } from './log-records.js';
import { INDEX_TAG, indexTag, tokenContents, type SearchIndex } from './index-tokens.js';

/** A data key from KMS GenerateDataKey; `plaintext` never leaves memory. */
export interface DataKey {
  algorithm: SealAlgorithm;
  plaintext: Uint8Array;
  /** KeyId returned by GenerateDataKey. */
  cmkId: string;
  /** CiphertextBlob returned by GenerateDataKey, shipped verbatim. */
  blob: string;
}

export interface SealTarget {
  project: string;
  logstore: string;
  mode: 'group' | 'log';
  zip: 'lz4' | 'none';
}

export interface SealOptions {
  /** Where nonces come from; tests inject fixed bytes. Default: the CSPRNG (crypto.randomFillSync). */
  fillNonces?: (out: Uint8Array) => void;
  /**
   * False seals each record through the cipher even where the addon could seal into the text in one call
   * (benchmarks, cross-checks).
   */
  batch?: boolean;
  /** Searchable fields: their tokens go beside the records (FORMAT.md "Searchable fields"). */
  index?: SearchIndex;
  /**
   * The records' text goes into a buffer this thread reuses, so the shipped group is valid only until the next
   * sealEncodedGroup with this option on this thread (sealTask, which encodes it at once). A buffer per group is what
   * the collector would otherwise have to free: ~1 MB a batch, held until the next scavenge.
   */
  reuseText?: boolean;
}

/** Largest base64 record the batcher may produce (FORMAT.md), in characters. */
export const sealedRecordLimit = 1024 * 1024;

/** A shipped LogGroup that is not a well-formed v1 sealed group (wrong version, missing header, bad field). */
export class SealFormatError extends Error {
  override readonly name = 'SealFormatError';
}

const VERSION = '1';
const SEALED = '__sealed__';
const RAW = '__raw__';
// Sealed bytes that fit in the record limit once base64 expands every 3 bytes to 4 characters.
const maxSealedBody = (sealedRecordLimit / 4) * 3 - nonceLength - tagLength;
const aadBytes = (s: string): Buffer => Buffer.from(s, 'utf8'); // ASCII for every valid project and logstore name

/** Seals `group` for `target` under `key`: the LogGroup to ship. */
export function sealGroup(group: LogGroup, key: DataKey, target: SealTarget, cipher: AeadCipher, options?: SealOptions): LogGroup {
  return sealEncodedGroup(encodeLogGroup(group), key, target, cipher, options).shipped;
}

/**
 * sealGroup for a group already encoded by encodeLogGroup (how the worker pool receives it). Also reports
 * the plaintext bytes sealed, before compression, for key-usage accounting.
 */
export function sealEncodedGroup(
  encoded: Uint8Array,
  key: DataKey,
  target: SealTarget,
  cipher: AeadCipher,
  options: SealOptions = {},
): { shipped: LogGroup; plainBytes: number } {
  if (cipher.algorithm !== key.algorithm) throw new RangeError(`data key is for ${key.algorithm}, cipher is ${cipher.algorithm}`);
  const fill = options.fillNonces ?? ((out: Uint8Array) => randomFillSync(out));
  // Mode `group` needs only where each Log lies and its Time (columns, no object per log); mode `log` each one's
  // Contents and Time_ns too, and so does the index of either.
  const index = options.index !== undefined && options.index.fields.length > 0 ? options.index : undefined;
  const bounds = target.mode === 'group' ? scanBounds(encoded) : undefined;
  const scanned = bounds && !index ? undefined : scanGroup(encoded);
  const rest = decodeLogGroup(encoded.subarray((bounds ?? scanned!).tailStart)); // Topic, Source, LogTags: no Logs
  const shipped: LogGroup = { logs: [], logTags: headerTags(key, target) };
  if (index) shipped.logTags.push(indexTag(index.fields));
  if (rest.topic !== undefined) shipped.topic = rest.topic;
  if (rest.source !== undefined) shipped.source = rest.source;

  const prefix = `logseal/1|${target.mode}|${key.algorithm}|${target.project}|${target.logstore}|`;
  // Every record's base64 text goes into one buffer per group, written from the nonce and the cipher's parts where
  // they lie: the encoder then copies bytes, where a string would have been built, measured and copied again.
  let text: Buffer = Buffer.alloc(0);
  let textPos = 0;
  const reserve = (characters: number): void => {
    if (!options.reuseText) text = Buffer.allocUnsafe(characters);
    else {
      if (reusedText.length < characters) reusedText = Buffer.allocUnsafeSlow(Math.ceil((characters * 1.125) / 65536) * 65536);
      text = reusedText;
    }
    textPos = 0;
  };
  // The addon seals where it is built for the suite (batch: false asks for the cipher); see sealChunk, sealLogsInBatch.
  const sealer = options.batch === false ? undefined : batchSealerFor(cipher);
  // A key of the wrong length gets the cipher's message, not the addon's, once there is something to seal with it.
  const checkKey = (records: number): void => {
    if (sealer && records > 0) checkKeySize(key.algorithm, key.plaintext);
  };
  const nonceAt = (nonces: Uint8Array, i: number): Uint8Array => nonces.subarray(i * nonceLength, (i + 1) * nonceLength);
  const sealChunk = (addon: SealLogRecords, nonces: Uint8Array, i: number, body: Uint8Array, time: number, n: number): Uint8Array => {
    const nonce = nonceAt(nonces, i);
    const start = textPos;
    textPos += recordLength(body.length);
    addon(key.plaintext, body, Uint32Array.of(0, body.length), Float64Array.of(time, n), aadBytes(prefix), nonce, text.subarray(start, textPos));
    return text.subarray(start, textPos);
  };
  const seal = (nonces: Uint8Array, i: number, plaintext: Uint8Array, aad: string): Uint8Array => {
    const nonce = nonceAt(nonces, i);
    const start = textPos;
    textPos = writeBase64([nonce, ...cipher.sealParts(key.plaintext, nonce, plaintext, aadBytes(aad))], text, textPos);
    return text.subarray(start, textPos);
  };

  let plainBytes = 0;
  if (bounds) {
    scratchUsed = 0; // bodies of the previous group are sealed and gone
    const chunks = splitIntoChunks(bounds, target.zip);
    reserve(chunks.reduce((n, c) => n + recordLength(c.body.length), 0));
    const nonces = new Uint8Array(chunks.length * nonceLength);
    fill(nonces);
    checkKey(chunks.length);
    // The addon seals a chunk straight into the text (its AAD has the shape of mode log's, Time then a number): no
    // ciphertext buffer per batch for the collector, where node:crypto's update() returns one.
    chunks.forEach((chunk, i) => {
      let time = bounds.times[chunk.from];
      for (let j = chunk.from + 1; j < chunk.to; j++) time = Math.min(time, bounds.times[j]);
      const n = chunk.plaintext.length;
      const record = sealer ? sealChunk(sealer, nonces, i, chunk.body, time, n) : seal(nonces, i, chunk.body, `${prefix}${time}|${n}`);
      const contents: LogContent[] = [{ key: SEALED, value: record }, { key: RAW, value: String(n) }];
      if (index) contents.push(...tokenContents(index, encoded, scanned!.logs, chunk.from, chunk.to));
      shipped.logs.push({ time, contents });
      plainBytes += n;
    });
  } else {
    const group = scanned!; // mode `log` always scans its logs
    shipped.logTags.push(...rest.logTags);
    reserve(group.logs.reduce((n, log) => n + recordLength(log.contentsEnd - log.contentsStart), 0));
    const nonces = new Uint8Array(group.logs.length * nonceLength);
    fill(nonces);
    if (sealer) {
      checkKey(group.logs.length);
      plainBytes = sealLogsInBatch(sealer, encoded, group, key, prefix, nonces, text, shipped.logs);
      if (index) shipped.logs.forEach((out, i) => out.contents.push(...tokenContents(index, encoded, group.logs, i, i + 1)));
      return { shipped, plainBytes };
    }
    group.logs.forEach((log, i) => {
      const plaintext = encoded.subarray(log.contentsStart, log.contentsEnd);
      const record = seal(nonces, i, plaintext, `${prefix}${log.time}|${log.timeNs ?? 0}`);
      const out: Log = { time: log.time, contents: [{ key: SEALED, value: record }] };
      if (index) out.contents.push(...tokenContents(index, encoded, group.logs, i, i + 1));
      if (log.timeNs !== undefined) out.timeNs = log.timeNs;
      shipped.logs.push(out);
      plainBytes += plaintext.length;
    });
  }
  return { shipped, plainBytes };
}

/** The authenticated plaintext of a shipped group's records, not yet decoded. */
export type OpenedRecords =
  | {
      mode: 'group';
      /** Per record: the protobuf-encoded plaintext LogGroup, and the record's Time (the smallest of its logs). */
      records: Array<{ plaintext: Uint8Array; time: number }>;
    }
  | {
      mode: 'log';
      /** Per record: the plaintext Log's Contents fields (protobuf), its Time and Time_ns. */
      records: Array<{ contents: Uint8Array; time: number; timeNs?: number }>;
      /** The visible LogTags after the header, and Topic and Source, which mode `log` leaves in the clear. */
      logTags: LogTag[];
      topic?: string;
      source?: string;
    };

/**
 * Mode `log` through the addon: every record of the group sealed and base64-written into `text` in one call, then
 * one shipped Log per plaintext Log pointing at its record. Returns the plaintext bytes sealed.
 */
function sealLogsInBatch(
  batch: SealLogRecords,
  encoded: Uint8Array,
  group: ScannedGroup,
  key: DataKey,
  prefix: string,
  nonces: Uint8Array,
  text: Buffer,
  out: Log[],
): number {
  const count = group.logs.length;
  const ranges = new Uint32Array(2 * count), times = new Float64Array(2 * count);
  for (let i = 0; i < count; i++) {
    const log = group.logs[i];
    ranges[2 * i] = log.contentsStart;
    ranges[2 * i + 1] = log.contentsEnd;
    times[2 * i] = log.time;
    times[2 * i + 1] = log.timeNs ?? 0;
  }
  batch(key.plaintext, encoded, ranges, times, aadBytes(prefix), nonces, text);
  let pos = 0, plainBytes = 0;
  for (const log of group.logs) {
    const n = log.contentsEnd - log.contentsStart;
    const end = pos + recordLength(n);
    const shipped: Log = { time: log.time, contents: [{ key: SEALED, value: text.subarray(pos, end) }] };
    if (log.timeNs !== undefined) shipped.timeNs = log.timeNs;
    out.push(shipped);
    pos = end;
    plainBytes += n;
  }
  return plainBytes;
}

/**
 * Authenticates and decrypts every record of a shipped group (decompressing mode `group` chunks), without
 * decoding the plaintext. Throws AuthenticationError for any record that does not authenticate, SealFormatError
 * for anything that is not a v1 sealed group. Nothing is returned unless every record opened.
 */
export function openRecords(
  shipped: LogGroup,
  keyFor: (blob: string) => Uint8Array,
  target: Pick<SealTarget, 'project' | 'logstore'>,
  cipherForAlgorithm: (algorithm: SealAlgorithm) => AeadCipher = (algorithm) => cipherFor(algorithm),
): OpenedRecords {
  const header = readHeader(shipped.logTags);
  const cipher = cipherForAlgorithm(header.algorithm);
  if (cipher.algorithm !== header.algorithm) throw new RangeError(`cipher is ${cipher.algorithm}, group is sealed with ${header.algorithm}`);
  const key = keyFor(header.blob);
  const prefix = `logseal/1|${header.mode}|${header.algorithm}|${target.project}|${target.logstore}|`;
  const open = (value: string, aad: string): Uint8Array => {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length < nonceLength + tagLength) throw new AuthenticationError('sealed record is too short');
    return cipher.open(key, bytes.subarray(0, nonceLength), bytes.subarray(nonceLength), aadBytes(aad));
  };

  if (header.mode === 'group') {
    const records = shipped.logs.map((log) => {
      const record = recordContents(log, [SEALED, RAW]);
      const rawText = record[RAW];
      if (!/^(0|[1-9][0-9]{0,15})$/.test(rawText)) throw new SealFormatError(`${RAW} is not a byte count`);
      const n = Number(rawText);
      const body = open(record[SEALED], `${prefix}${log.time}|${n}`);
      // Only authenticated bytes reach the decompressor.
      const plaintext = parse(() => {
        if (header.zip === 'lz4') return lz4Decompress(body, n);
        if (body.length !== n) throw new Error(`${RAW} says ${n} bytes, record holds ${body.length}`);
        return body;
      });
      return { plaintext, time: log.time };
    });
    return { mode: 'group', records };
  }

  const records = shipped.logs.map((log) => {
    const record = recordContents(log, [SEALED]);
    const contents = open(record[SEALED], `${prefix}${log.time}|${log.timeNs ?? 0}`);
    return log.timeNs !== undefined ? { contents, time: log.time, timeNs: log.timeNs } : { contents, time: log.time };
  });
  const opened: OpenedRecords = { mode: 'log', records, logTags: shipped.logTags.slice(header.tagCount).map((t) => ({ ...t })) };
  if (shipped.topic !== undefined) opened.topic = shipped.topic;
  if (shipped.source !== undefined) opened.source = shipped.source;
  return opened;
}

/**
 * Opens a shipped group: one plaintext LogGroup per record in mode `group`, a single group holding every
 * log in mode `log`. `keyFor` turns the group's `__seal_dk__` blob into the data key (KMS Decrypt, cached
 * by the caller). Throws AuthenticationError for any record that does not authenticate, SealFormatError
 * for anything that is not a v1 sealed group.
 */
export function openGroup(
  shipped: LogGroup,
  keyFor: (blob: string) => Uint8Array,
  target: Pick<SealTarget, 'project' | 'logstore'>,
  cipherForAlgorithm?: (algorithm: SealAlgorithm) => AeadCipher,
): LogGroup[] {
  const opened = openRecords(shipped, keyFor, target, cipherForAlgorithm);
  if (opened.mode === 'group') {
    return opened.records.map(({ plaintext, time }) => {
      const chunk = parse(() => decodeLogGroup(plaintext));
      if (chunk.logs.length > 0 && minTime(chunk.logs) !== time) throw new SealFormatError('record Time is not the smallest Time of its logs');
      return chunk;
    });
  }
  const group: LogGroup = { logs: [], logTags: opened.logTags };
  if (opened.topic !== undefined) group.topic = opened.topic;
  if (opened.source !== undefined) group.source = opened.source;
  for (const r of opened.records) {
    const out: Log = { time: r.time, contents: parse(() => decodeContents(r.contents)) };
    if (r.timeNs !== undefined) out.timeNs = r.timeNs;
    group.logs.push(out);
  }
  return [group];
}

interface Chunk {
  /** Logs [from, to) of the scanned group. */
  from: number;
  to: number;
  /** The protobuf-encoded plaintext LogGroup holding those logs. */
  plaintext: Uint8Array;
  /** What is sealed: `plaintext`, LZ4-compressed when zip = lz4. */
  body: Uint8Array;
}

/**
 * Splits a group's logs, in order, into chunks whose records fit `sealedRecordLimit`. Uncompressed sizes are
 * exact, so without compression the logs are packed greedily. With LZ4 the whole group is tried first; a
 * chunk that compresses to too much is re-packed with a budget scaled by its own compression ratio (less
 * 10%, as smaller parts compress a little worse). A single log that alone exceeds the limit is sealed as its
 * own chunk: its record is over the limit and SLS may refuse it, but the log is neither dropped nor cut into
 * pieces that a reader could not reassemble.
 */
function splitIntoChunks(group: GroupBounds, zip: SealTarget['zip']): Chunk[] {
  const chunks: Chunk[] = [];
  const pack = (from: number, to: number, budget: number): void => {
    for (let a = from; a < to; ) {
      let b = a + 1;
      while (b < to && chunkSize(group, a, b + 1) <= budget) b++;
      const plaintext = chunkBytes(group, a, b);
      const body = zip === 'lz4' ? compressToScratch(plaintext) : plaintext;
      if (body.length <= maxSealedBody || b - a === 1) chunks.push({ from: a, to: b, plaintext, body });
      else pack(a, b, (plaintext.length * maxSealedBody) / body.length / 1.1); // below this chunk's size: it splits
      a = b;
    }
  };
  pack(0, group.count, zip === 'none' ? maxSealedBody : Infinity);
  return chunks;
}

/** Characters of the base64 record sealing `plaintextLength` bytes: nonce, ciphertext, tag. */
function recordLength(plaintextLength: number): number {
  return base64Length(nonceLength + plaintextLength + tagLength);
}

/** Where this thread writes the records' text for `reuseText`: reused from batch to batch (sized by the largest so far). */
let reusedText = Buffer.alloc(0);

/** Where this thread compresses chunks: reused from batch to batch rather than allocated at the LZ4 bound each time. */
let scratch = Buffer.alloc(0);
let scratchUsed = 0;

/** LZ4 of `plaintext` in the scratch buffer, valid until the next sealEncodedGroup on this thread. */
function compressToScratch(plaintext: Uint8Array): Uint8Array {
  const bound = lz4Bound(plaintext.length);
  if (scratchUsed + bound > scratch.length) {
    // Bodies already in the old buffer stay valid: their views keep it alive until the group is sealed.
    scratch = Buffer.allocUnsafeSlow(Math.max(2 * scratch.length, bound + 64 * 1024));
    scratchUsed = 0;
  }
  const n = lz4CompressInto(plaintext, scratch, scratchUsed);
  const body = scratch.subarray(scratchUsed, scratchUsed + n);
  scratchUsed += n;
  return body;
}

function headerKeys(mode: SealTarget['mode']): string[] {
  const keys = ['__seal_v__', '__seal_alg__', '__seal_mode__', '__seal_cmk__', '__seal_dk__'];
  return mode === 'group' ? [...keys, '__seal_zip__'] : keys;
}

function headerTags(key: DataKey, target: SealTarget): LogTag[] {
  const values = [VERSION, key.algorithm, target.mode, key.cmkId, key.blob, target.zip];
  return headerKeys(target.mode).map((k, i) => ({ key: k, value: values[i] }));
}

interface Header {
  /** Header tags, and the searchable-fields tag when present: in mode `log` the plaintext group's tags follow. */
  tagCount: number;
  algorithm: SealAlgorithm;
  mode: SealTarget['mode'];
  blob: string;
  zip: SealTarget['zip'];
}

function readHeader(tags: LogTag[]): Header {
  if (tags[0]?.key !== '__seal_v__') throw new SealFormatError('not a sealed group: __seal_v__ is not the first tag');
  if (tags[0].value !== VERSION) throw new SealFormatError(`unsupported __seal_v__ ${JSON.stringify(tags[0].value.slice(0, 16))}`);
  const mode = tags[2]?.key === '__seal_mode__' ? tags[2].value : undefined;
  if (mode !== 'group' && mode !== 'log') throw new SealFormatError('missing or unknown __seal_mode__');
  const expected = headerKeys(mode);
  const values: Record<string, string> = {};
  expected.forEach((k, i) => {
    if (tags[i]?.key !== k) throw new SealFormatError(`header tag ${i + 1} should be ${k}`);
    values[k] = tags[i].value;
  });
  const algorithm = values.__seal_alg__;
  if (algorithm !== 'AES_256_GCM' && algorithm !== 'SM4_128_GCM') throw new SealFormatError('unknown __seal_alg__');
  const zip = mode === 'group' ? values.__seal_zip__ : 'none';
  if (zip !== 'lz4' && zip !== 'none') throw new SealFormatError('unknown __seal_zip__');
  const tagCount = expected.length + (tags[expected.length]?.key === INDEX_TAG ? 1 : 0);
  return { tagCount, algorithm, mode, blob: values.__seal_dk__, zip };
}

const TOKEN_CONTENT = /^__bi_.+__$/;

/**
 * The log's record contents as a map: exactly `keys` in that order, followed only by searchable-field tokens
 * (`__bi_<field>__`), which are not authenticated and are ignored here.
 */
function recordContents(log: Log, keys: string[]): Record<string, string> {
  const extra = log.contents.slice(keys.length);
  if (log.contents.length < keys.length || keys.some((k, i) => log.contents[i].key !== k) || extra.some((c) => !TOKEN_CONTENT.test(c.key))) {
    throw new SealFormatError(`a sealed log must hold exactly ${keys.join(', ')} (then only __bi_<field>__ tokens)`);
  }
  const out: Record<string, string> = {};
  for (const c of log.contents.slice(0, keys.length)) out[c.key] = typeof c.value === 'string' ? c.value : Buffer.from(c.value).toString('latin1');
  return out;
}

function parse<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new SealFormatError(`authenticated record does not decode: ${(e as Error).message}`);
  }
}

/** A Log's Contents field, decoded by the shared codec as the one Log of a LogGroup. */
function decodeContents(bytes: Uint8Array): LogContent[] {
  const logLength = 2 + bytes.length;
  const group = Buffer.alloc(1 + varintLength(logLength) + logLength);
  group[0] = 0x0a; // LogGroup.Logs
  const p = writeVarint(group, 1, logLength);
  group[p] = 0x08; // Log.Time = 0: the field is required
  group.set(bytes, p + 2);
  return decodeLogGroup(group).logs[0].contents;
}

function minTime(logs: Log[]): number {
  let t = logs[0].time;
  for (const log of logs) if (log.time < t) t = log.time;
  return t;
}
