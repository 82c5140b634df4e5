// Joins continuation lines (stack traces and the like) into one event that begins at a line matching a start pattern.
//
// An event is emitted when the next start line arrives, when it holds maxLines lines, before a line would push it past
// maxBytes, or after flushTimeoutMs without a new line (checked by the owner at EOF via `due`). Lines before the first
// start line form an event of their own rather than being dropped.
export type EventSink = (buf: Buffer, start: number, end: number, endOffset: number) => void;

export interface MultilineRules {
  start: RegExp;
  maxLines: number;
  maxBytes: number;
  flushTimeoutMs: number;
}

const LF = 10;

export class MultilineJoiner {
  private lines: Buffer[] = [];
  private bytes = 0;
  private endOffset = 0;
  private lastAppendAt = 0;

  constructor(
    private readonly rules: MultilineRules,
    private readonly emit: EventSink,
  ) {}

  get pending(): boolean {
    return this.lines.length > 0;
  }

  /** Monotonic time (ms) at which the pending event is flushed for quiet, if one is pending. */
  deadline(): number | undefined {
    return this.lines.length > 0 ? this.lastAppendAt + this.rules.flushTimeoutMs : undefined;
  }

  push(buf: Buffer, start: number, end: number, endOffset: number, monoNow: number): void {
    const size = end - start;
    if (this.lines.length > 0) {
      const startsEvent = this.rules.start.test(buf.toString('utf8', start, end));
      if (startsEvent || this.bytes + 1 + size > this.rules.maxBytes) this.flush();
    }
    this.bytes += (this.lines.length > 0 ? 1 : 0) + size;
    this.lines.push(Buffer.from(buf.subarray(start, end))); // a copy: the framer's buffer is reused
    this.endOffset = endOffset;
    this.lastAppendAt = monoNow;
    if (this.lines.length >= this.rules.maxLines) this.flush();
  }

  flush(): void {
    const lines = this.lines;
    if (lines.length === 0) return;
    this.lines = [];
    const total = this.bytes;
    this.bytes = 0;
    if (lines.length === 1) {
      this.emit(lines[0], 0, lines[0].length, this.endOffset);
      return;
    }
    const joined = Buffer.allocUnsafe(total);
    let at = 0;
    for (let i = 0; i < lines.length; i++) {
      if (i > 0) joined[at++] = LF;
      at += lines[i].copy(joined, at);
    }
    this.emit(joined, 0, total, this.endOffset);
  }
}
