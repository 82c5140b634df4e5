// One open file being followed: reads chunks at its offset, frames them into lines and lines into entries.
import type { FileHandle } from 'node:fs/promises';
import type { Log, LogContent, LogTag } from '../wire/loggroup.js';
import { LineFramer } from './framer.js';
import { extendFingerprint, fingerprintMatches, FINGERPRINT_MAX_BYTES } from './identity.js';
import type { CompiledInput } from './input-config.js';
import { MultilineJoiner } from './multiline.js';
import { CONTENT_KEY } from './parser.js';
import type { FileIdentity, InputEntry, InputFile } from './types.js';

export const SPLIT_KEY = '__split__';

const LF = 10;
const BACKSCAN_BYTES = 64 * 1024;

/** 'replaced': the file is now shorter than what was read, or no longer starts with the fingerprinted bytes. */
export type ReadOutcome = 'data' | 'eof' | 'replaced';

export interface TailerInit {
  fh: FileHandle;
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
  push: (entry: InputEntry, from: Tailer) => void;
}

/**
 * Resuming at a checkpoint inside a line (only split pieces end there): how many pieces of that line came before, so
 * the numbering continues. Costs one backwards read of that line, once.
 */
export async function piecesBefore(fh: FileHandle, offset: number, maxLineBytes: number): Promise<number> {
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
  readonly fh: FileHandle;
  readonly input: CompiledInput;
  readonly tagPath: string;
  identity: FileIdentity;
  path: string;
  /** Whether `path` still names this file; a detached file is read to EOF, then closed once quiet. */
  attached: boolean;
  finished = false;
  /** Entries pushed and not yet taken by the consumer; a finished tailer is forgotten only when this is 0. */
  queued = 0;
  /** endOffset of the last entry taken by the consumer: what files() reports. */
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

  private readonly framer: LineFramer;
  private readonly joiner: MultilineJoiner | undefined;
  private readonly tags: LogTag[];
  private readonly now: () => number;
  private readonly push: (entry: InputEntry, from: Tailer) => void;
  /** Size and mtime at the last successful verify(). */
  private verified = { size: -1, mtimeMs: -1 };
  private time = 0;
  private timeNs = 0;
  private mono = 0;

  constructor(init: TailerInit) {
    this.fh = init.fh;
    this.fileId = init.fileId;
    this.identity = init.identity;
    this.path = init.path;
    this.tagPath = init.tagPath;
    this.readOffset = init.offset;
    this.takenOffset = init.offset;
    this.startOffset = init.offset;
    this.input = init.input;
    this.attached = init.attached;
    this.now = init.now;
    this.push = init.push;
    this.tags = [...init.input.tags, { key: '__hostname__', value: init.hostname }, { key: '__path__', value: init.tagPath }];
    this.joiner = init.input.multiline
      ? new MultilineJoiner(init.input.multiline, (buf, s, e, end) => this.emit(buf, s, e, end, undefined))
      : undefined;
    this.framer = new LineFramer(init.input.maxLineBytes, {
      line: this.joiner
        ? (buf, s, e, end) => this.joiner!.push(buf, s, e, end, this.mono)
        : (buf, s, e, end) => this.emit(buf, s, e, end, undefined),
      piece: (buf, s, e, end, marker) => {
        this.joiner?.flush();
        this.emit(buf, s, e, end, marker);
      },
    });
    if (init.piecesBefore) this.framer.continueSplitLine(init.piecesBefore);
  }

  describe(): InputFile {
    const { dev, ino, fingerprint, fingerprintBytes } = this.identity;
    const { fileId, path, takenOffset: offset, startOffset } = this;
    return { fileId, path, dev, ino, fingerprint, fingerprintBytes, offset, startOffset };
  }

  /** Reads at most one chunk and turns the complete lines in it into entries. */
  async readChunk(chunkBytes: number): Promise<ReadOutcome> {
    this.changed = false; // before the stat: a change noticed from here on is seen by this read or flagged again
    const stat = await this.fh.stat();
    if (stat.size < this.readOffset) {
      this.replacedBecause = `size ${stat.size} < offset ${this.readOffset}`;
      return 'replaced';
    }
    if (this.identity.fingerprintBytes < FINGERPRINT_MAX_BYTES && stat.size > this.identity.fingerprintBytes) {
      const longer = await extendFingerprint(this.fh, this.identity);
      if (!longer) {
        this.replacedBecause = 'first bytes changed';
        return 'replaced';
      }
      this.identity = { ...this.identity, ...longer };
    }
    if (stat.size === this.readOffset) return this.atEof();
    const room = Math.min(chunkBytes, stat.size - this.readOffset);
    const { buf, at } = this.framer.bufferFor(room);
    const { bytesRead } = await this.fh.read(buf, at, room, this.readOffset);
    this.stamp();
    // Always consume, even 0 bytes: bufferFor moved the held partial line into buf.
    this.framer.consume(buf, at + bytesRead, this.readOffset - at);
    this.readOffset += bytesRead;
    if (bytesRead === 0) return this.atEof();
    this.quietSince = this.mono;
    this.idleSince = undefined;
    return 'data';
  }

  private atEof(): 'eof' {
    this.idleSince = performance.now();
    return 'eof';
  }

  /** For periodic checks: has the file been truncated or rewritten under us? `seen` skips the work if unchanged. */
  async verify(seen: { size: number; mtimeMs: number }): Promise<'ok' | 'replaced'> {
    if (seen.size === this.verified.size && seen.mtimeMs === this.verified.mtimeMs) return 'ok';
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
    }
  }

  /** The file is done: emits the held partial line and pending event as they are. Does not close the handle. */
  finish(): void {
    if (this.finished) return;
    this.stamp();
    this.framer.flushPartial(this.readOffset);
    this.joiner?.flush();
    this.finished = true;
  }

  private stamp(): void {
    const ms = this.now();
    this.time = Math.floor(ms / 1000);
    this.timeNs = Math.min(999_999_999, Math.floor((ms - this.time * 1000) * 1e6));
    this.mono = performance.now();
  }

  private emit(buf: Buffer, start: number, end: number, endOffset: number, splitMarker: string | undefined): void {
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
    for (const field of this.input.fields) contents.push(field);
    const log: Log = { time: this.time, contents, timeNs: this.timeNs };
    const { topic, source } = this.input;
    this.push({ log, topic, source, tags: this.tags, fileId: this.fileId, endOffset }, this);
  }
}
