// Writes logs straight into their protobuf form as LogGroup.Logs fields, so a line never becomes JS objects.
//
// The bytes are exactly what encodeLogGroup writes for the same logs (Time, Contents…, Time_ns per Log), so
// a LogGroup is these fields back to back followed by the group's own fields, and the seal stage can cut
// them as it cuts any encoded group.
import { nativeAddon } from '../native/addon.js';
import { sizeLogField, varintLength, writeLogField, writeVarint } from './loggroup-encoder.js';
import type { Log, LogContent } from './loggroup.js';

/** The addon's line framer (agent/native/frame.c); without it there is no lines(), and lines go one by one. */
const frameLines = nativeAddon?.frameLines;
export const canFrameLines: boolean = frameLines !== undefined;

/** The extra contents of CRI lines per stream, as criLines takes them: stdout's bytes, then stderr's. */
export interface CriExtras {
  both: Uint8Array;
  stdoutBytes: number;
}

export function criExtras(stdout: Uint8Array, stderr: Uint8Array): CriExtras {
  const both = new Uint8Array(stdout.length + stderr.length);
  both.set(stdout, 0);
  both.set(stderr, stdout.length);
  return { both, stdoutBytes: stdout.length };
}

// frameLines' state array, as frame.c lays it out; framing is synchronous, so one per thread serves every writer.
const st = new Float64Array(12);
const ST_POS = 0, ST_END = 1, ST_MAX = 2, ST_OUT_POS = 3, ST_COUNT = 4, ST_FILE_OFFSET = 5, ST_TIME = 6, ST_TIME_NS = 7, ST_STOP = 8, ST_NEED = 9;
const ST_MODE = 10, ST_EXTRA_SPLIT = 11;
const STOP_NO_ROOM = 2, STOP_NO_SLOT = 3;
const MODE_LINES = 0, MODE_CRI = 1;

const GROUP_LOGS = 0x0a;
const LOG_TIME = 0x08;
const LOG_CONTENTS = 0x12;
const LOG_TIME_NS = 0x25;
const PAIR_KEY = 0x0a;
const PAIR_VALUE = 0x12;

/** Logs written so far: `bytes` holds `count` LogGroup.Logs fields, the i-th ending at `ends[i]`. */
export interface EncodedLogs {
  bytes: Uint8Array;
  ends: Uint32Array;
  count: number;
}

/** Contents as encoded inside a Log (key, length, Content), for contents every log of an input carries. */
export function encodeContents(contents: LogContent[]): Uint8Array {
  if (contents.length === 0) return new Uint8Array(0);
  const log: Log = { time: 0, contents };
  const field = Buffer.allocUnsafeSlow(sizeLogField(log));
  const end = writeLogField(field, 0, log);
  // Skip the field's key and length, then Time (key and the one-byte varint 0): the Contents remain.
  let p = 1;
  while (field[p] & 0x80) p++;
  return field.subarray(p + 1 + 2, end);
}

export class LogWriter {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private ends = new Uint32Array(0);
  private n = 0;
  /** Line bytes announced by reserve() since the last take, and what the last run made of them. */
  private reserved = 0;
  private expansion = 1.25;
  private bytesPerLog = 64;
  /** Key and length of the content key, as every raw line's Content starts. */
  private readonly keyField: Buffer;

  /**
   * @param contentKey the key of the one content a raw line becomes
   * @param extra contents appended to every raw line's log, from encodeContents
   * @param allocate where buffers come from: at least `size` bytes, not shared with anything still in use
   */
  constructor(
    contentKey: string,
    private readonly extra: Uint8Array,
    private readonly allocate: (size: number) => Buffer = (size) => Buffer.allocUnsafeSlow(size),
  ) {
    const key = Buffer.from(contentKey, 'utf8');
    this.keyField = Buffer.alloc(1 + varintLength(key.length) + key.length);
    this.keyField[0] = PAIR_KEY;
    key.copy(this.keyField, writeVarint(this.keyField, 1, key.length));
  }

  get count(): number {
    return this.n;
  }

  /**
   * Room for logs from about `bytes` of lines, so the writes that follow do not grow the buffer: sized by how much the
   * last run's logs outgrew their lines (protobuf framing costs ~25 bytes per line, more in proportion for short ones).
   */
  reserve(bytes: number): void {
    this.reserved += bytes;
    this.ensure(Math.ceil(bytes * this.expansion) + 256, Math.ceil(bytes / this.bytesPerLog) + 1);
  }

  /** A log whose contents are `contentKey` = src[start, end) and the extra contents (`extra`: others, encoded alike). */
  line(time: number, timeNs: number, src: Buffer, start: number, end: number, extra: Uint8Array = this.extra): void {
    const n = end - start;
    const content = this.keyField.length + 1 + varintLength(n) + n;
    const log = 1 + varintLength(time) + 1 + varintLength(content) + content + extra.length + 5;
    this.ensure(1 + varintLength(log) + log, 1);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = GROUP_LOGS;
    p = writeVarint(buf, p, log);
    buf[p++] = LOG_TIME;
    p = writeVarint(buf, p, time);
    buf[p++] = LOG_CONTENTS;
    p = writeVarint(buf, p, content);
    const keyField = this.keyField;
    for (let i = 0; i < keyField.length; i++) buf[p++] = keyField[i];
    buf[p++] = PAIR_VALUE;
    p = writeVarint(buf, p, n);
    // One native copy per line (in Node 20 Buffer.copy makes one short-lived view for it; no other object is made).
    if (n > 0) p += src.copy(buf, p, start, end);
    if (extra.length > 0) {
      buf.set(extra, p);
      p += extra.length;
    }
    buf[p++] = LOG_TIME_NS;
    buf[p++] = timeNs & 0xff;
    buf[p++] = (timeNs >>> 8) & 0xff;
    buf[p++] = (timeNs >>> 16) & 0xff;
    buf[p++] = timeNs >>> 24;
    this.pos = p;
    this.ends[this.n++] = p;
  }

  /**
   * Every complete line of src[pos, end) up to the first one longer than `max` bytes, each written as line() writes it,
   * in one native call per chunk; only when canFrameLines. A line ends at LF, and one CR before it is dropped. Returns
   * the position after the last line written (its LF). The file offset after each line's LF (`fileOffset` being that
   * of src[0]) goes into the caller's array that `offsets(n)` returns with room for n logs, at the log's index.
   */
  lines(time: number, timeNs: number, src: Buffer, pos: number, end: number, max: number, fileOffset: number, offsets: (n: number) => Float64Array): number {
    st[ST_MODE] = MODE_LINES;
    return this.frame(time, timeNs, src, pos, end, max, fileOffset, offsets, this.extra);
  }

  /**
   * As lines(), for CRI container log lines `<time> <stream> F <log>`: each written as the log with the line's own
   * time, followed by `extras.stdout` or `extras.stderr` (encoded contents). Stops before the first line that is not
   * such a line (a `P` fragment, a malformed line): the caller decodes that one. Only when canFrameCriLines.
   */
  criLines(src: Buffer, pos: number, end: number, max: number, fileOffset: number, offsets: (n: number) => Float64Array, extras: CriExtras): number {
    st[ST_MODE] = MODE_CRI;
    st[ST_EXTRA_SPLIT] = extras.stdoutBytes;
    return this.frame(0, 0, src, pos, end, max, fileOffset, offsets, extras.both);
  }

  private frame(time: number, timeNs: number, src: Buffer, pos: number, end: number, max: number, fileOffset: number, offsets: (n: number) => Float64Array, extra: Uint8Array): number {
    for (;;) {
      st[ST_POS] = pos;
      st[ST_END] = end;
      st[ST_MAX] = max;
      st[ST_OUT_POS] = this.pos;
      st[ST_COUNT] = this.n;
      st[ST_FILE_OFFSET] = fileOffset;
      st[ST_TIME] = time;
      st[ST_TIME_NS] = timeNs;
      frameLines!(src, this.buf, this.ends, offsets(this.ends.length), this.keyField, extra, st);
      pos = st[ST_POS];
      this.pos = st[ST_OUT_POS];
      this.n = st[ST_COUNT];
      if (st[ST_STOP] === STOP_NO_ROOM) this.ensure(st[ST_NEED], 1);
      else if (st[ST_STOP] === STOP_NO_SLOT) this.ensure(0, 1);
      else return pos;
    }
  }

  /** Any log, through the general encoder (parsed lines, split pieces). */
  log(log: Log): void {
    const size = sizeLogField(log);
    this.ensure(size, 1);
    this.pos = writeLogField(this.buf, this.pos, log);
    this.ends[this.n++] = this.pos;
  }

  /** What was written since the last take, or undefined when nothing was; the writer starts afresh. */
  take(): EncodedLogs | undefined {
    if (this.n === 0) return undefined;
    if (this.reserved > 0) {
      this.expansion = Math.min(64, (this.pos / this.reserved) * 1.02);
      this.bytesPerLog = Math.max(1, this.reserved / this.n / 1.02);
      this.reserved = 0;
    }
    const out = { bytes: this.buf.subarray(0, this.pos), ends: this.ends.subarray(0, this.n), count: this.n };
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    this.ends = new Uint32Array(0);
    this.n = 0;
    return out;
  }

  private ensure(bytes: number, logs: number): void {
    if (this.pos + bytes > this.buf.length) {
      const grown = this.allocate(Math.max(this.pos + bytes, this.buf.length * 2, 4096));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
    }
    if (this.n + logs > this.ends.length) {
      const grown = new Uint32Array(Math.max(this.n + logs, this.ends.length * 2, 64));
      grown.set(this.ends.subarray(0, this.n));
      this.ends = grown;
    }
  }
}

/**
 * Whether the addon frames CRI lines: checked on a known line, since an addon built from older sources would take
 * the mode for plain lines and write the whole line as the content.
 */
export const canFrameCriLines: boolean = (() => {
  if (!canFrameLines) return false;
  try {
    const w = new LogWriter('c', new Uint8Array(0));
    const line = Buffer.from('1970-01-01T00:00:01.5Z stdout F x\n');
    w.reserve(line.length);
    const extras = criExtras(new Uint8Array(0), new Uint8Array(0));
    const offsets = new Float64Array(4);
    if (w.criLines(line, 0, line.length, 1024, 0, () => offsets, extras) !== line.length) return false;
    const logs = w.take();
    // 0x0a len | 0x08 1 | 0x12 len 0x0a 1 'c' 0x12 1 'x' | 0x25 500000000 (LE)
    const expected = Buffer.from([0x0a, 0x0f, 0x08, 0x01, 0x12, 0x06, 0x0a, 0x01, 0x63, 0x12, 0x01, 0x78, 0x25, 0x00, 0x65, 0xcd, 0x1d]);
    return logs !== undefined && Buffer.compare(Buffer.from(logs.bytes), expected) === 0;
  } catch {
    return false;
  }
})();
