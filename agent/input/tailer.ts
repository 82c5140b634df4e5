// One open file being followed: reads chunks at its offset, frames them into lines and lines into encoded runs of logs.
import { GzipFile } from './gzip-file.js';
import type { LogFile } from './log-file.js';
import { canFrameLines, encodeContents, LogWriter } from '../wire/log-writer.js';
import type { LogContent, LogTag } from '../wire/loggroup.js';
import { ContainerDecoder, type LineStamp } from './container-format.js';
import { ContainerLogWriter } from './container-contents.js';
import { LineFramer } from './framer.js';
import { extendFingerprint, fingerprintMatches, FINGERPRINT_MAX_BYTES } from './identity.js';
import type { CompiledInput } from './input-config.js';
import { MultilineJoiner } from './multiline.js';
import { CONTENT_KEY, SPLIT_KEY } from './parser.js';
import { originMetadata } from './path-metadata.js';
import type { FileIdentity, InputFile, InputRun } from './types.js';

export { SPLIT_KEY };

const LF = 10;
const BACKSCAN_BYTES = 64 * 1024;

/** 'replaced': the file is now shorter than what was read, or no longer starts with the fingerprinted bytes. */
export type ReadOutcome = 'data' | 'eof' | 'replaced';

export interface TailerInit {
  fh: LogFile;
  fileId: string;
  identity: FileIdentity;
  /** Where the file is now. */
  path: string;
  /** The `__path__` tag: where the file was first followed, kept through renames so its logs stay in one group. */
  tagPath: string;
  offset: number;
  input: CompiledInput;
  hostname: string;
  attached: boolean;
  /** Pieces of a split line already emitted before `offset` (resuming inside it); see piecesBefore. */
  piecesBefore?: number;
  now: () => number;
  push: (run: InputRun, from: Tailer) => void;
  /** Memory for runs (LogWriter's allocate). */
  allocate?: (size: number) => Buffer;
}

/**
 * Resuming at a checkpoint inside a line (only split pieces end there): how many pieces of that line came before, so
 * the numbering continues. Costs one backwards read of that line, once.
 */
export async function piecesBefore(fh: LogFile, offset: number, maxLineBytes: number): Promise<number> {
  const block = Buffer.allocUnsafe(BACKSCAN_BYTES);
  for (let end = offset; end > 0; ) {
    const start = Math.max(0, end - BACKSCAN_BYTES);
    const { bytesRead } = await fh.read(block, 0, end - start, start);
    const nl = block.subarray(0, bytesRead).lastIndexOf(LF);
    if (nl !== -1) return Math.floor((offset - (start + nl + 1)) / maxLineBytes);
    if (bytesRead === 0) break;
    end = start;
  }
  return Math.floor(offset / maxLineBytes);
}

export class Tailer {
  readonly fileId: string;
  /** Undefined while closed for being inactive (or to stay within the open file limit): position and state are kept. */
  fh: LogFile | undefined;
  /** Read decompressed (a .gz file): it ends once its stream is complete, and it is never appended to. */
  readonly gzip: boolean;
  /** A gzip file read to the end of its complete stream, last line included. */
  gzipDone = false;
  readonly input: CompiledInput;
  readonly tagPath: string;
  identity: FileIdentity;
  path: string;
  /** Whether `path` still names this file; a detached file is read to EOF, then closed once quiet. */
  attached: boolean;
  finished = false;
  /** Runs pushed and not yet taken by the consumer; a finished tailer is forgotten only when this is 0. */
  queued = 0;
  /** File offset after the last log taken by the consumer: what files() reports. */
  takenOffset: number;
  /** Bytes consumed from the file (framed or held as a partial line). */
  readOffset: number;
  /** Where this run began reading the file. */
  readonly startOffset: number;
  /** Monotonic ms of the last data read, or of the detach: a detached file closes after staying quiet. */
  quietSince = performance.now();
  /** After a read error, skip the file until this monotonic time. */
  retryAt = 0;
  /** Monotonic ms when a read last found nothing new; undefined while there may be more to read. */
  idleSince: number | undefined;
  /** A watch event named the file since it went idle: worth checking before the next poll. */
  changed = false;
  /** Why the last read returned 'replaced'. */
  replacedBecause = '';
  /** Size and mtime when the handle was closed: a scan that sees others marks the file changed. */
  closedAt: { size: number; mtimeMs: number } | undefined;

  private readonly framer: LineFramer;
  private readonly joiner: MultilineJoiner | undefined;
  private readonly container: ContainerDecoder | undefined;
  private readonly containerWriter: ContainerLogWriter | undefined;
  private readonly tags: LogTag[];
  /** The input's static fields, and for container logs where the file comes from (see path-metadata). */
  private readonly fields: LogContent[];
  private readonly now: () => number;
  private readonly push: (run: InputRun, from: Tailer) => void;
  private readonly writer: LogWriter;
  /** Per log written since the last run was pushed: the file offset after it. */
  private offsets = new Float64Array(64);
  /** File offset after the last log pushed downstream: where the next run begins. */
  private runStart: number;
  /** File size at the last stat in readChunk (-1: stat again). */
  private knownSize = -1;
  /** lastSeen comes from the fstat of a reopen that just happened: readChunk needs no other. */
  private statFresh = false;
  /** Size and mtime at the last stat of the open handle (what a closed file is compared with). */
  private lastSeen = { size: -1, mtimeMs: -1 };
  /** Size and mtime at the last successful verify(). */
  private verified = { size: -1, mtimeMs: -1 };
  private time = 0;
  private timeNs = 0;
  private mono = 0;

  constructor(init: TailerInit) {
    this.fh = init.fh;
    this.gzip = init.fh instanceof GzipFile;
    this.fileId = init.fileId;
    this.identity = init.identity;
    this.path = init.path;
    this.tagPath = init.tagPath;
    this.readOffset = init.offset;
    this.takenOffset = init.offset;
    this.startOffset = init.offset;
    this.runStart = init.offset;
    this.input = init.input;
    this.attached = init.attached;
    this.now = init.now;
    this.push = init.push;
    const origin = init.input.format ? originMetadata(init.tagPath, init.input.containerMetadata) : { fields: [], tags: [] };
    this.fields = [...init.input.fields, ...origin.fields];
    this.tags = [...init.input.tags, ...origin.tags, { key: '__hostname__', value: init.hostname }, { key: '__path__', value: init.tagPath }];
    this.writer = new LogWriter(CONTENT_KEY, encodeContents(this.fields), init.allocate);
    this.containerWriter = init.input.format
      ? new ContainerLogWriter(this.writer, init.input.raw ? undefined : init.input.parse, this.fields)
      : undefined;
    this.container = init.input.format
      ? new ContainerDecoder(init.input.format, init.input.maxLineBytes, { line: this.emitDecoded, malformed: this.emitMalformed })
      : undefined;
    this.joiner = init.input.multiline
      ? new MultilineJoiner(init.input.multiline, (buf, s, e, end) => this.emit(buf, s, e, end, undefined))
      : undefined;
    this.framer = new LineFramer(init.input.maxLineBytes, {
      line: this.container
        ? (buf, s, e, end) => this.container!.line(buf, s, e, end)
        : this.joiner
          ? (buf, s, e, end) => this.joiner!.push(buf, s, e, end, this.mono)
          : (buf, s, e, end) => this.emit(buf, s, e, end, undefined),
      piece: (buf, s, e, end, marker) => {
        this.joiner?.flush();
        this.container?.flush();
        this.emit(buf, s, e, end, marker);
      },
      // Raw lines without multiline joining are framed a chunk at a time by the native framer, when it is built.
      ...(!this.joiner && !this.container && init.input.raw && canFrameLines
        ? { lines: (buf: Buffer, s: number, e: number, max: number, at: number) => this.writer.lines(this.time, this.timeNs, buf, s, e, max, at, this.offsetsFor) }
        : {}),
      ...(this.container ? { lines: this.containerWriter!.bulkLines(this.container, this.offsetsFor) } : {}),
    });
    if (init.piecesBefore) this.framer.continueSplitLine(init.piecesBefore);
  }

  describe(): InputFile {
    const { dev, ino, fingerprint, fingerprintBytes } = this.identity;
    const { fileId, path, takenOffset: offset, startOffset } = this;
    return { fileId, path, dev, ino, fingerprint, fingerprintBytes, offset, startOffset };
  }

  /**
   * Reads at most one chunk and turns the complete lines in it into one run of logs. Reads into `scratch` when it is
   * large enough; nothing refers to it once this returns.
   */
  async readChunk(chunkBytes: number, scratch?: Buffer): Promise<ReadOutcome> {
    const fh = this.open();
    this.changed = false; // before the stat: a change noticed from here on is seen by this read or flagged again
    let size = this.knownSize;
    /** A stat made by this call, after `changed` was cleared. */
    let statted = false;
    // A stat per read is a thread-pool round trip; while the last one vouches for a whole chunk ahead it is skipped.
    if (this.statFresh || size - this.readOffset < chunkBytes || this.identity.fingerprintBytes < FINGERPRINT_MAX_BYTES) {
      // Just reopened: the reopen's fstat is as fresh as another one would be.
      const stat = this.statFresh ? this.lastSeen : await fh.stat();
      statted = !this.statFresh;
      this.statFresh = false;
      size = this.knownSize = stat.size;
      this.lastSeen = { size: stat.size, mtimeMs: stat.mtimeMs };
      if (stat.size < this.readOffset) {
        this.replacedBecause = `size ${stat.size} < offset ${this.readOffset}`;
        return 'replaced';
      }
      if (this.identity.fingerprintBytes < FINGERPRINT_MAX_BYTES && stat.size > this.identity.fingerprintBytes) {
        const longer = await extendFingerprint(fh, this.identity);
        if (!longer) {
          this.replacedBecause = 'first bytes changed';
          return 'replaced';
        }
        this.identity = { ...this.identity, ...longer };
      }
      if (stat.size === this.readOffset) return this.atEof();
    }
    const room = Math.min(chunkBytes, size - this.readOffset);
    const { buf, at } = this.framer.bufferFor(room, scratch);
    const { bytesRead } = await fh.read(buf, at, room, this.readOffset);
    if (bytesRead < room) this.knownSize = -1; // shorter than the stat said: look again before the next read
    this.stamp();
    this.writer.reserve(at + bytesRead);
    // Always consume, even 0 bytes: bufferFor moved the held partial line into buf.
    this.framer.consume(buf, at + bytesRead, this.readOffset - at);
    this.pushRun();
    this.readOffset += bytesRead;
    if (bytesRead === 0) return this.atEof();
    this.quietSince = this.mono;
    // Read up to the size this call's stat saw, and nothing flagged a change since: at EOF now, as another stat and
    // read would find (two thread-pool round trips per wake-up saved at a steady trickle). A later write flags the
    // file changed (its watch event, or the next scan's stat), and deadlines still bring it back.
    this.idleSince = statted && !this.gzip && this.readOffset === size && !this.changed ? performance.now() : undefined;
    return 'data';
  }

  /** The handle, which the caller made sure is open. */
  open(): LogFile {
    if (!this.fh) throw new Error(`${this.path} is not open`);
    return this.fh;
  }

  /**
   * Lets go of the handle; the position, a held partial line and a pending multiline event stay. Returns the handle
   * to close. The next knownSize is stale by then: look again after reopening.
   */
  release(): LogFile | undefined {
    const fh = this.fh;
    this.fh = undefined;
    this.knownSize = -1;
    this.closedAt = this.lastSeen;
    return fh;
  }

  /** A reopened handle on the same file (the caller checked dev+ino and fingerprint); `seen` from its fstat. */
  reattach(fh: LogFile, seen: { size: number; mtimeMs: number }): void {
    this.fh = fh;
    this.lastSeen = { size: seen.size, mtimeMs: seen.mtimeMs };
    this.statFresh = true;
    this.closedAt = undefined;
  }

  private atEof(): 'eof' {
    if (this.fh instanceof GzipFile && this.fh.complete && !this.gzipDone) {
      // A complete gzip stream will not grow: its last line is whole even without a newline.
      this.stamp();
      this.framer.flushPartial(this.readOffset);
      this.container?.flush(); // nor will a runtime's partial line be continued
      this.pushRun();
      this.gzipDone = true;
    }
    this.idleSince = performance.now();
    return 'eof';
  }

  /** For periodic checks: has the file been truncated or rewritten under us? `seen` skips the work if unchanged. */
  async verify(seen: { size: number; mtimeMs: number }): Promise<'ok' | 'replaced'> {
    if (this.gzip) return 'ok'; // compressed once and left alone; decompression checks its own checksum
    if (seen.size === this.verified.size && seen.mtimeMs === this.verified.mtimeMs) return 'ok';
    if (!this.fh) {
      // Closed: the reopen checks the identity; a change only has to be noticed.
      const c = this.closedAt;
      if (!c || c.size !== seen.size || c.mtimeMs !== seen.mtimeMs) this.changed = true;
      return 'ok';
    }
    const stat = await this.fh.stat();
    if (stat.size < this.readOffset) {
      this.replacedBecause = `size ${stat.size} < offset ${this.readOffset}`;
      return 'replaced';
    }
    if (!(await fingerprintMatches(this.fh, this.identity))) {
      this.replacedBecause = 'first bytes changed';
      return 'replaced';
    }
    this.verified = { size: seen.size, mtimeMs: seen.mtimeMs };
    return 'ok';
  }

  /** Whether a scan's stat of the file's path shows something left to read. */
  differsFrom(st: { size: number }): boolean {
    return this.gzip ? !this.gzipDone : st.size !== this.readOffset;
  }

  /** Monotonic ms when something must happen without new data: a multiline flush, or closing a quiet detached file. */
  deadline(rotateWaitMs: number): number | undefined {
    const flushAt = this.joiner?.deadline();
    const closeAt = this.attached ? undefined : this.quietSince + rotateWaitMs;
    if (flushAt === undefined) return closeAt;
    return closeAt === undefined ? flushAt : Math.min(flushAt, closeAt);
  }

  /** At EOF: emits a pending multiline event whose quiet time is over. */
  flushIfQuiet(monoNow: number): void {
    const at = this.joiner?.deadline();
    if (at !== undefined && monoNow >= at) {
      this.stamp();
      this.joiner!.flush();
      this.pushRun();
    }
  }

  /** The file is done: emits the held partial line and pending event as they are. Does not close the handle. */
  finish(): void {
    if (this.finished) return;
    this.stamp();
    this.framer.flushPartial(this.readOffset);
    this.joiner?.flush();
    this.container?.flush();
    this.pushRun();
    this.finished = true;
  }

  private stamp(): void {
    const ms = this.now();
    this.time = Math.floor(ms / 1000);
    this.timeNs = Math.min(999_999_999, Math.floor((ms - this.time * 1000) * 1e6));
    this.mono = performance.now();
  }

  private emit(buf: Buffer, start: number, end: number, endOffset: number, splitMarker: string | undefined): void {
    const fields = this.fields;
    if (splitMarker === undefined && this.input.raw) {
      this.writer.line(this.time, this.timeNs, buf, start, end);
    } else {
      let contents: LogContent[];
      if (splitMarker === undefined) {
        contents = this.input.parse(buf, start, end);
      } else {
        // Pieces skip the parser: a fragment of a JSON or regex-shaped line would only fail to parse.
        contents = [
          { key: CONTENT_KEY, value: new Uint8Array(buf.buffer, buf.byteOffset + start, end - start) },
          { key: SPLIT_KEY, value: splitMarker },
        ];
      }
      for (const field of fields) contents.push(field);
      this.writer.log({ time: this.time, contents, timeNs: this.timeNs });
    }
    this.offsetsFor(this.writer.count)[this.writer.count - 1] = endOffset;
  }

  /** A container log line, decoded: written with the runtime's time. */
  private readonly emitDecoded = (buf: Buffer, start: number, end: number, endOffset: number, stamp: LineStamp, marker: string | undefined): void => {
    this.containerWriter!.line(buf, start, end, stamp, marker);
    this.offsetsFor(this.writer.count)[this.writer.count - 1] = endOffset;
  };

  private readonly emitMalformed = (buf: Buffer, start: number, end: number, endOffset: number, reason: string): void => {
    this.input.malformedLines++;
    this.containerWriter!.malformed(buf, start, end, reason, this.time, this.timeNs);
    this.offsetsFor(this.writer.count)[this.writer.count - 1] = endOffset;
  };

  /** The offsets array, grown to room for `n` logs. */
  private readonly offsetsFor = (n: number): Float64Array => {
    if (n > this.offsets.length) {
      const grown = new Float64Array(Math.max(n, this.offsets.length * 2));
      grown.set(this.offsets);
      this.offsets = grown;
    }
    return this.offsets;
  };

  /** Hands what was framed since the last call downstream as one run. */
  private pushRun(): void {
    const logs = this.writer.take();
    if (!logs) return;
    const { topic, source } = this.input;
    const offsets = this.offsets.slice(0, logs.count);
    const startOffset = this.runStart;
    this.runStart = offsets[logs.count - 1];
    this.push({ ...logs, offsets, startOffset, topic, source, tags: this.tags, fileId: this.fileId, input: this.input.index }, this);
  }
}
