// Plaintext LogGroups to output bytes: NDJSON (FORMAT.md "Reading back"), raw `content`, or a count, after the filter.
import type { LogGroup } from '../wire/loggroup.js';
import type { PlainLogLine } from './plain-log.js';
import type { OutputFormat } from './view.js';
import { plainField } from './where.js';

const utf8 = new TextDecoder();
const NEWLINE = Buffer.from('\n');

/** Collects the output of one piece of work in one growing buffer. */
export class OutputBuilder {
  lines = 0;
  buf: Buffer;
  pos = 0;

  private readonly given: Buffer | undefined;

  /**
   * `expected`: a guess of the output size, so that the buffer rarely has to grow (each growth is a copy). `into`: a
   * buffer to write into instead (shared memory the reader hands out and takes back), kept as long as it has room.
   */
  constructor(expected = 64 * 1024, into?: Buffer) {
    this.given = into;
    this.buf = into ?? Buffer.allocUnsafeSlow(Math.min(Math.max(expected, 4096), 64 * 2 ** 20));
  }

  /** Room for `n` more bytes at `pos`. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  addText(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  addBytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Where the output stands, to go back to when a group turns out not to open. */
  mark(): { pos: number; lines: number } {
    return { pos: this.pos, lines: this.lines };
  }

  reset(m: { pos: number; lines: number }): void {
    this.pos = m.pos;
    this.lines = m.lines;
  }

  /** The bytes written: in the given buffer while it had room, otherwise in an ArrayBuffer of their own (it is moved between threads). */
  finish(): Buffer {
    if (this.buf === this.given) return this.buf.subarray(0, this.pos);
    return this.pos * 2 < this.buf.length ? Buffer.from(this.buf.subarray(0, this.pos)) : this.buf.subarray(0, this.pos);
  }
}

/** Remembers which of the --where fields occurred in at least one log read. */
export class FieldTracker {
  private readonly unseen: Set<string>;
  readonly seen: string[] = [];
  constructor(fields: readonly string[]) {
    this.unseen = new Set(fields);
  }
  get done(): boolean {
    return this.unseen.size === 0;
  }
  note(log: PlainLogLine): void {
    this.noteLookup((f) => plainField(log, f));
  }
  noteLookup(get: (field: string) => string | undefined): void {
    for (const f of this.unseen) {
      if (get(f) !== undefined) {
        this.unseen.delete(f);
        this.seen.push(f);
      }
    }
  }
}

/** The plaintext logs of an opened group, as `logseal decrypt` prints them. */
export function* plainLines(group: LogGroup): Generator<PlainLogLine> {
  const tags: Record<string, string> = {};
  for (const t of group.logTags) tags[t.key] = t.value;
  for (const log of group.logs) {
    const contents: Record<string, string> = {};
    // Values that were not valid UTF-8 are sealed byte for byte; JSON can only show them with U+FFFD in place.
    for (const c of log.contents) contents[c.key] = typeof c.value === 'string' ? c.value : utf8.decode(c.value);
    // Key order as FORMAT.md shows it, time_ns right after time.
    yield {
      time: log.time,
      ...(log.timeNs !== undefined ? { time_ns: log.timeNs } : {}),
      topic: group.topic ?? '',
      source: group.source ?? '',
      tags,
      contents,
    };
  }
}

/**
 * Appends the logs of an opened group that pass `keep` to `out`. NDJSON lines are JSON.stringify of the
 * PlainLogLine, written in two parts so that topic, source and tags are serialized once per group. `raw`
 * writes the `content` value as the original file held it (bytes that were not UTF-8 included); a log
 * without `content` writes nothing.
 */
export function renderGroup(group: LogGroup, format: OutputFormat, keep: (log: PlainLogLine) => boolean, out: OutputBuilder, fields?: FieldTracker): void {
  let groupPart: string | undefined;
  let i = 0;
  for (const line of plainLines(group)) {
    const log = group.logs[i++]!;
    if (fields && !fields.done) fields.note(line);
    if (!keep(line)) continue;
    out.lines++;
    if (format === 'count') continue;
    if (format === 'raw') {
      let value: string | Uint8Array | undefined;
      for (const c of log.contents) if (c.key === 'content') value = c.value;
      if (value === undefined) {
        out.lines--;
        continue;
      }
      if (typeof value === 'string') out.addText(`${value}\n`);
      else {
        out.addBytes(value);
        out.addBytes(NEWLINE);
      }
      continue;
    }
    groupPart ??= `,"topic":${JSON.stringify(line.topic)},"source":${JSON.stringify(line.source)},"tags":${JSON.stringify(line.tags)},"contents":`;
    const head = line.time_ns !== undefined ? `{"time":${line.time},"time_ns":${line.time_ns}` : `{"time":${line.time}`;
    out.addText(`${head}${groupPart}${JSON.stringify(line.contents)}}\n`);
  }
}
