// Cuts a file's byte stream into lines: newline framing, holding a partial line, and splitting over-long lines.
//
// Splitting: a line whose content (after dropping a trailing \r) exceeds maxLineBytes is cut into pieces of exactly
// maxLineBytes bytes counted from the line start, the last piece holding the remainder (1..maxLineBytes bytes).
// Each piece carries a `__split__` marker: `<i>/?` for piece i (1-based) when more pieces follow, `<n>/<n>` for the
// last of n pieces. Pieces are emitted as soon as they are certain, so a huge line never has to sit in memory whole,
// and the marker does not depend on how the file happened to be read.
export interface LineSink {
  /**
   * A complete line buf[start, end), without its \n or trailing \r; endOffset is the file offset after the \n. `buf`
   * may be reused once the call returns: a sink that keeps bytes copies them.
   */
  line(buf: Buffer, start: number, end: number, endOffset: number): void;
  /** One piece of an over-long line; endOffset is the file offset just after the piece's last byte. */
  piece(buf: Buffer, start: number, end: number, endOffset: number, marker: string): void;
  /**
   * Optional, for a sink that takes many lines in one call: every complete line of buf[start, end) up to the first one
   * longer than `max`, each as line() would take it; returns the position after the last one taken. `fileOffset` is
   * the file position of buf[0].
   */
  lines?(buf: Buffer, start: number, end: number, max: number, fileOffset: number): number;
}

const EMPTY = Buffer.alloc(0);
const LF = 10;
const CR = 13;

export class LineFramer {
  /** The bytes of the line still waiting for its newline. */
  private held: Buffer = EMPTY;
  /** Pieces of the current line already emitted. */
  private pieces = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {}

  get heldBytes(): number {
    return this.held.length;
  }

  /** Resuming inside a line that was being split: `pieces` of it were emitted before, numbering continues after them. */
  continueSplitLine(pieces: number): void {
    this.pieces = pieces;
  }

  /**
   * A buffer that starts with the held partial line, followed by `room` bytes to read into at `at`: `scratch` when it
   * is large enough (the caller may reuse it once consume() returned: nothing framed keeps a reference to it).
   */
  bufferFor(room: number, scratch?: Buffer): { buf: Buffer; at: number } {
    const at = this.held.length;
    const buf = scratch && scratch.length >= at + room ? scratch : Buffer.allocUnsafe(at + room);
    if (at > 0) this.held.copy(buf, 0);
    this.held = EMPTY;
    return { buf, at };
  }

  /** Frames buf[0, length); `fileOffset` is the file position of buf[0]. Whatever follows the last \n is held. */
  consume(whole: Buffer, length: number, fileOffset: number): void {
    const buf = length < whole.length ? whole.subarray(0, length) : whole;
    const max = this.maxLineBytes;
    let pos = 0;
    for (;;) {
      // A sink that takes lines in bulk gets them until a line needs splitting; that one goes the way below.
      if (this.pieces === 0 && this.sink.lines) pos = this.sink.lines(buf, pos, length, max, fileOffset);
      const nl = buf.indexOf(LF, pos);
      if (nl === -1) break;
      const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
      if (this.pieces === 0 && end - pos <= max) this.sink.line(buf, pos, end, fileOffset + nl + 1);
      else this.finishSplitLine(buf, pos, end, fileOffset, fileOffset + nl + 1);
      pos = nl + 1;
    }
    // Without a newline, a piece is certain once max+2 bytes are held: at most one trailing \r can still be dropped.
    while (length - pos >= max + 2) {
      this.pieces++;
      this.sink.piece(buf, pos, pos + max, fileOffset + pos + max, `${this.pieces}/?`);
      pos += max;
    }
    // A copy: the read buffer is reused for the next read.
    this.held = pos < length ? Buffer.from(buf.subarray(pos, length)) : EMPTY;
  }

  /**
   * Emits the held partial line as if it were complete (the file is done: rotated, truncated or removed).
   * `endOffset` is the file offset just after the held bytes.
   */
  flushPartial(endOffset: number): void {
    const buf = this.held;
    this.held = EMPTY;
    if (buf.length === 0 && this.pieces === 0) return;
    const start = endOffset - buf.length;
    if (this.pieces === 0 && buf.length <= this.maxLineBytes) this.sink.line(buf, 0, buf.length, endOffset);
    else this.finishSplitLine(buf, 0, buf.length, start, endOffset);
  }

  private finishSplitLine(buf: Buffer, pos: number, end: number, fileOffset: number, endOffset: number): void {
    const max = this.maxLineBytes;
    while (end - pos > max) {
      this.pieces++;
      this.sink.piece(buf, pos, pos + max, fileOffset + pos + max, `${this.pieces}/?`);
      pos += max;
    }
    const n = ++this.pieces;
    this.pieces = 0;
    this.sink.piece(buf, pos, end, endOffset, `${n}/${n}`);
  }
}
