// Container logs as kubelet leaves them on disk: the CRI format (`<time> <stream> <P|F> <log>`) and Docker's json-file
// format, decoded into one log per logical line with the container's own timestamp and stream, partial lines joined.
//
// Checkpoints: a logical line is emitted only once it is complete (the CRI `F` line, the Docker record whose `log` ends
// in \n), with the file offset after its last physical line. The fragments of a pending partial line are covered by no
// checkpoint, so after a restart they are read again and joined as before: nothing is lost or repeated. A partial line
// that would grow past maxLineBytes is emitted in pieces at fragment boundaries, marked `__split__` like the framer's
// pieces; each piece's offset is after its last fragment, so a restart between pieces resumes after the last piece
// emitted and the rest comes out as a line of its own (its numbering starts afresh): still nothing lost or repeated.
//
// A physical line that is neither format is never dropped: it is shipped as it is, with `__parse_error__`, and
// counted. A pending partial line is emitted as it is before such a line, and when the file is finished.
export type ContainerFormat = 'cri' | 'docker' | 'auto';

/** The log's own content key for the stream a line was written to (stdout or stderr). */
export const STREAM_KEY = '_stream_';

/** Where a decoded line came from, per line. */
export interface LineStamp {
  /** Seconds and nanoseconds of the container runtime's timestamp. */
  time: number;
  timeNs: number;
  stream: string;
}

export interface DecodedSink {
  /** A complete logical line buf[start, end), or one piece of it (`marker` set); endOffset as the framer's. */
  line(buf: Buffer, start: number, end: number, endOffset: number, stamp: LineStamp, marker: string | undefined): void;
  /** A physical line that is not in the format: shipped as it is, with the reason. */
  malformed(buf: Buffer, start: number, end: number, endOffset: number, reason: string): void;
}

const SPACE = 0x20;
const COLON = 0x3a;
const LF = '\n';
const SECONDS_BYTES = 19; // 2016-10-06T00:17:09
const MINUTE_BYTES = 16; // 2016-10-06T00:17
const MAX_TIME = 0xffffffff;
const MAX_TIME_MS = (MAX_TIME + 1) * 1000;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * Parses RFC 3339 times with up to nanoseconds into `time`/`timeNs`. Lines come in bursts within one minute: while
 * the part up to the minutes and the zone are the bytes of the last full parse, only seconds and fraction are read.
 */
class TimeParser {
  time = 0;
  timeNs = 0;
  /** Bytes up to the minutes and of the zone, as last parsed in full, and that minute in epoch seconds. */
  private minute = Buffer.alloc(MINUTE_BYTES);
  private minuteStart = 0;
  private zone = Buffer.alloc(0);
  private known = false;

  /** False when buf[start, end) is not an RFC 3339 time. */
  parse(buf: Buffer, start: number, end: number): boolean {
    if (end - start < SECONDS_BYTES + 1) return false;
    let p = start + SECONDS_BYTES;
    let ns = 0;
    if (buf[p] === DOT) {
      let digits = 0;
      for (p++; p < end && digits < 9 && buf[p] >= DIGIT_0 && buf[p] <= DIGIT_9; p++, digits++) ns = ns * 10 + buf[p] - DIGIT_0;
      if (digits === 0) return false;
      for (; digits < 9; digits++) ns *= 10;
    }
    const s1 = buf[start + MINUTE_BYTES + 1] - DIGIT_0;
    const s2 = buf[start + MINUTE_BYTES + 2] - DIGIT_0;
    const second = s1 * 10 + s2;
    const plain = buf[start + MINUTE_BYTES] === COLON && s1 >= 0 && s1 <= 5 && s2 >= 0 && s2 <= 9;
    if (plain && this.known && this.same(buf, start, p, end)) {
      this.time = this.minuteStart + second;
      if (this.time > MAX_TIME) return false;
    } else {
      const m = RFC3339.exec(buf.toString('latin1', start, end));
      const ms = m ? Date.parse(m[1] + m[3]) : NaN;
      // Log.time is a uint32 of seconds: times before 1970 or after 2106 cannot be sent.
      if (!(ms >= 0 && ms < MAX_TIME_MS)) return false;
      this.time = Math.floor(ms / 1000);
      this.known = plain;
      buf.copy(this.minute, 0, start, start + MINUTE_BYTES);
      this.zone = Buffer.from(buf.subarray(p, end));
      this.minuteStart = this.time - second;
    }
    this.timeNs = ns;
    return true;
  }

  private same(buf: Buffer, start: number, zoneStart: number, end: number): boolean {
    const minute = this.minute;
    for (let i = 0; i < MINUTE_BYTES; i++) if (buf[start + i] !== minute[i]) return false;
    const zone = this.zone;
    if (end - zoneStart !== zone.length) return false;
    for (let i = 0; i < zone.length; i++) if (buf[zoneStart + i] !== zone[i]) return false;
    return true;
  }
}

/** 'stdout' or 'stderr' when buf[start, end) is one of them (compared byte by byte: no string per line). */
function streamAt(buf: Buffer, start: number, end: number): string | undefined {
  if (end - start !== 6 || buf[start] !== 0x73 || buf[start + 1] !== 0x74 || buf[start + 2] !== 0x64) return undefined;
  const a = buf[start + 3];
  const b = buf[start + 4];
  const c = buf[start + 5];
  if (a === 0x6f && b === 0x75 && c === 0x74) return 'stdout';
  if (a === 0x65 && b === 0x72 && c === 0x72) return 'stderr';
  return undefined;
}

/** The first space in buf[from, end), or -1. The fields before the log are short: a loop beats a native call. */
function spaceAt(buf: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === SPACE) return i;
  return -1;
}

/** Decodes the physical lines of one file, joining partial lines. */
export class ContainerDecoder {
  /** Physical lines shipped as they are because they were not in the format. */
  malformed = 0;
  private format: 'cri' | 'docker' | undefined;
  private readonly times = new TimeParser();
  /** The stamp of the line being decoded, reused: sinks take it during the call only. */
  private readonly stamp: LineStamp = { time: 0, timeNs: 0, stream: '' };
  /** Fragments of the pending partial line (copies), their total size, and the offset after the last one. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  private partEnd = 0;
  private partStamp: LineStamp | undefined;
  private pieces = 0;

  constructor(
    format: ContainerFormat,
    private readonly maxLineBytes: number,
    private readonly sink: DecodedSink,
  ) {
    this.format = format === 'auto' ? undefined : format;
  }

  /** Which format the file turned out to be (undefined while `auto` has seen no line). */
  get detected(): 'cri' | 'docker' | undefined {
    return this.format;
  }

  /** A CRI file with no partial line pending: the next line may be framed natively (see ContainerLogWriter). */
  get betweenCriLines(): boolean {
    return this.format === 'cri' && this.parts.length === 0 && this.pieces === 0;
  }

  /** One physical line buf[start, end) (without its newline); endOffset is the file offset after it. */
  line(buf: Buffer, start: number, end: number, endOffset: number): void {
    // auto: the first line decides, once per file; a Docker record is a JSON object, a CRI line starts with a time.
    this.format ??= buf[start] === 0x7b ? 'docker' : 'cri';
    if (this.format === 'cri') this.cri(buf, start, end, endOffset);
    else this.docker(buf, start, end, endOffset);
  }

  /** The file is done, or something else comes between: the pending partial line goes out as it is. */
  flush(): void {
    if (this.parts.length === 0) return;
    this.emitPending(this.pieces > 0 ? `${this.pieces + 1}/${this.pieces + 1}` : undefined);
    this.pieces = 0;
  }

  private cri(buf: Buffer, start: number, end: number, endOffset: number): void {
    const sp1 = spaceAt(buf, start, end);
    const sp2 = sp1 === -1 ? -1 : spaceAt(buf, sp1 + 1, end);
    const stream = sp2 === -1 ? undefined : streamAt(buf, sp1 + 1, sp2);
    const tag = stream && sp2 + 1 < end ? buf[sp2 + 1] : undefined;
    const after = sp2 + 2 < end ? buf[sp2 + 2] : SPACE;
    const known = (tag === 0x50 || tag === 0x46) && (after === SPACE || after === COLON);
    if (!known || !this.times.parse(buf, start, sp1)) return this.bad(buf, start, end, endOffset, 'not a CRI log line');
    let sp3 = sp2 + 2;
    while (sp3 < end && buf[sp3] !== SPACE) sp3++;
    const logStart = Math.min(sp3 + 1, end);
    this.fragment(buf, logStart, end, endOffset, this.stamped(stream!), tag === 0x50);
  }

  private docker(buf: Buffer, start: number, end: number, endOffset: number): void {
    let record: unknown;
    try {
      record = JSON.parse(buf.toString('utf8', start, end));
    } catch {
      record = undefined;
    }
    const { log, stream, time } = (record ?? {}) as Record<string, unknown>;
    const ok = typeof log === 'string' && (stream === 'stdout' || stream === 'stderr') && typeof time === 'string';
    if (!ok || !this.times.parse(Buffer.from(time, 'latin1'), 0, time.length)) {
      return this.bad(buf, start, end, endOffset, 'not a Docker json-file record');
    }
    const stamp = this.stamped(stream);
    const text = log as string;
    // Docker splits lines longer than 16 KiB into records; only the last one ends with the newline.
    const partial = !text.endsWith(LF);
    const content = Buffer.from(partial ? text : text.slice(0, text.endsWith('\r\n') ? -2 : -1), 'utf8');
    this.fragment(content, 0, content.length, endOffset, stamp, partial);
  }

  private stamped(stream: string): LineStamp {
    const stamp = this.stamp;
    stamp.time = this.times.time;
    stamp.timeNs = this.times.timeNs;
    stamp.stream = stream;
    return stamp;
  }

  private fragment(buf: Buffer, start: number, end: number, endOffset: number, stamp: LineStamp, partial: boolean): void {
    const size = end - start;
    // Pieces are cut at fragment boundaries, so each piece's offset is exact (see the top of the file).
    if (this.parts.length > 0 && this.partBytes + size > this.maxLineBytes) this.emitPending(`${++this.pieces}/?`);
    if (!partial && this.parts.length === 0) {
      const marker = this.pieces > 0 ? `${this.pieces + 1}/${this.pieces + 1}` : undefined;
      this.pieces = 0;
      this.sink.line(buf, start, end, endOffset, stamp, marker);
      return;
    }
    this.parts.push(Buffer.from(buf.subarray(start, end))); // a copy: the framer's buffer is reused
    this.partBytes += size;
    this.partEnd = endOffset;
    // The line's time is that of its first fragment, when the application began writing it.
    this.partStamp ??= { ...stamp };
    if (!partial) this.flush();
  }

  private emitPending(marker: string | undefined): void {
    const joined = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partBytes);
    const stamp = this.partStamp!;
    this.parts = [];
    this.partBytes = 0;
    this.partStamp = undefined;
    this.sink.line(joined, 0, joined.length, this.partEnd, stamp, marker);
  }

  private bad(buf: Buffer, start: number, end: number, endOffset: number, reason: string): void {
    this.flush();
    this.malformed++;
    this.sink.malformed(buf, start, end, endOffset, reason);
  }
}
