// One shard's durable record log: append-only segment files of length-prefixed, CRC-checked records, fsync'ed in groups.
import { mkdir, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

// Segment file = MAGIC, then frames: u32le bodyLength | u32le crc32(time..body) | u32le receiveTime | body.
const MAGIC = Buffer.from('SLSEMU01');
const FRAME_HEADER = 12;
const SEGMENT_ROLL_BYTES = 64 * 1024 * 1024;
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

// Record memory a reader has given back (releaseRecords), for the next reads: PullLogs reads MBs of records per answer.
const spareFrames: Buffer[] = [];
const MAX_SPARE_FRAMES = 16;

function frameMemory(length: number): Buffer {
  const i = spareFrames.findIndex((b) => b.length >= length);
  return i >= 0 ? spareFrames.splice(i, 1)[0]!.subarray(0, length) : Buffer.allocUnsafe(length);
}

/** Gives back the memory of records from ShardLog.read that no one uses any more (it is then reused). */
export function releaseRecords(records: readonly Buffer[]): void {
  for (const r of records) {
    // Only whole buffers of their own (allocUnsafe of a record is never from the small-buffer pool: they are larger).
    if (r.buffer.byteLength < 64 * 1024 || spareFrames.length >= MAX_SPARE_FRAMES) continue;
    spareFrames.push(Buffer.from(r.buffer, 0, r.buffer.byteLength));
  }
}

function segmentName(n: number): string {
  return `${String(n).padStart(8, '0')}.seg`;
}

/** Makes a new directory entry durable, so a crash cannot lose a file that already holds acknowledged data. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Column store of record positions: small per record, so millions of records stay cheap in memory. */
class RecordIndex {
  count = 0;
  private segment = new Uint32Array(1024);
  private offset = new Float64Array(1024);
  private length = new Uint32Array(1024);
  private time = new Uint32Array(1024);

  push(segment: number, offset: number, length: number, time: number): void {
    if (this.count === this.segment.length) this.grow();
    const i = this.count++;
    this.segment[i] = segment;
    this.offset[i] = offset;
    this.length[i] = length;
    this.time[i] = time;
  }

  at(i: number): { segment: number; offset: number; length: number } {
    return { segment: this.segment[i]!, offset: this.offset[i]!, length: this.length[i]! };
  }

  timeAt(i: number): number {
    return this.time[i]!;
  }

  private grow(): void {
    const n = this.segment.length * 2;
    const seg = new Uint32Array(n);
    seg.set(this.segment);
    const off = new Float64Array(n);
    off.set(this.offset);
    const len = new Uint32Array(n);
    len.set(this.length);
    const t = new Uint32Array(n);
    t.set(this.time);
    [this.segment, this.offset, this.length, this.time] = [seg, off, len, t];
  }
}

export class ShardLogCorruptError extends Error {
  override name = 'ShardLogCorruptError';
}

/** An append that arrived after the shard was closed (logstore deleted or emulator stopping). */
export class ShardLogClosedError extends Error {
  override name = 'ShardLogClosedError';
}

interface PendingAppend {
  frame: Buffer;
  time: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

function frameRecord(body: Uint8Array, time: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(time, 8);
  frame.set(body, FRAME_HEADER);
  frame.writeUInt32LE(crc32(frame.subarray(8)), 4);
  return frame;
}

export class ShardLog {
  private readonly readers = new Map<number, FileHandle>();
  private pending: PendingAppend[] = [];
  private loop: Promise<void> | undefined;
  private lastTime = 0;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private segment: number,
    private writer: FileHandle,
    private size: number,
    private readonly index: RecordIndex,
  ) {
    if (index.count > 0) this.lastTime = index.timeAt(index.count - 1);
  }

  /** Opens (or creates) the shard directory, rebuilding the index and cutting off a torn final record. */
  static async open(dir: string): Promise<ShardLog> {
    await mkdir(dir, { recursive: true });
    const segments = (await readdir(dir))
      .filter((f) => /^\d{8}\.seg$/.test(f))
      .map((f) => Number(f.slice(0, 8)))
      .sort((a, b) => a - b);
    const index = new RecordIndex();
    let last = -1;
    let lastGoodSize = 0;
    for (const [i, seg] of segments.entries()) {
      const { goodSize, torn } = scanSegment(await readFile(join(dir, segmentName(seg))), seg, index);
      if (torn && i !== segments.length - 1) {
        throw new ShardLogCorruptError(`segment ${join(dir, segmentName(seg))} is corrupt at byte ${goodSize}`);
      }
      last = seg;
      lastGoodSize = goodSize;
    }
    if (last < 0) return ShardLog.createSegment(dir, 0);
    const writer = await open(join(dir, segmentName(last)), 'r+');
    // A crash mid-append leaves a partial frame that was never acknowledged: drop it.
    if (lastGoodSize < MAGIC.length) {
      await writer.truncate(0);
      await writer.write(MAGIC, 0, MAGIC.length, 0);
      lastGoodSize = MAGIC.length;
    } else {
      await writer.truncate(lastGoodSize);
    }
    await writer.datasync();
    return new ShardLog(dir, last, writer, lastGoodSize, index);
  }

  private static async createSegment(dir: string, segment: number): Promise<ShardLog> {
    const writer = await open(join(dir, segmentName(segment)), 'wx+');
    await writer.write(MAGIC, 0, MAGIC.length, 0);
    await writer.datasync();
    await syncDirectory(dir);
    return new ShardLog(dir, segment, writer, MAGIC.length, new RecordIndex());
  }

  /** Number of acknowledged records. */
  get count(): number {
    return this.index.count;
  }

  /** Index of the first record received at or after `unixSeconds`, or `count` when there is none. */
  firstAtOrAfter(unixSeconds: number): number {
    let lo = 0;
    let hi = this.index.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.index.timeAt(mid) < unixSeconds) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Appends one record; resolves once it is on disk (fdatasync). Appends that arrive while a sync is running are
   * written and synced together by the next round, so many concurrent writers share one fsync.
   */
  append(body: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new ShardLogClosedError(`shard log ${this.dir} is closed`));
    if (body.length > MAX_RECORD_BYTES) return Promise.reject(new Error('record too large'));
    const time = Math.max(this.lastTime, Math.floor(Date.now() / 1000));
    this.lastTime = time;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ frame: frameRecord(body, time), time, resolve, reject });
      if (!this.loop) this.loop = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.writeBatch(batch);
          for (const p of batch) p.resolve();
        } catch (e) {
          for (const p of batch) p.reject(e as Error);
        }
      }
    } finally {
      this.loop = undefined;
    }
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    if (this.size >= SEGMENT_ROLL_BYTES) await this.roll();
    const data = batch.length === 1 ? batch[0]!.frame : Buffer.concat(batch.map((p) => p.frame));
    try {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await this.writer.write(data, done, data.length - done, this.size + done);
        done += bytesWritten;
      }
      await this.writer.datasync();
    } catch (e) {
      // Leave no half-written frame behind; the callers are told the append failed.
      await this.writer.truncate(this.size).catch(() => undefined);
      throw e;
    }
    let offset = this.size;
    for (const p of batch) {
      this.index.push(this.segment, offset, p.frame.length, p.time);
      offset += p.frame.length;
    }
    this.size = offset;
  }

  private async roll(): Promise<void> {
    const next = await ShardLog.createSegment(this.dir, this.segment + 1);
    await this.writer.close();
    [this.writer, this.segment, this.size] = [next.writer, next.segment, next.size];
  }

  /** The body of acknowledged record `i`, after checking its CRC (its memory may come from releaseRecords). */
  async read(i: number): Promise<Buffer> {
    if (i < 0 || i >= this.index.count) throw new RangeError(`record ${i} out of range`);
    const { segment, offset, length } = this.index.at(i);
    const fh = await this.reader(segment);
    const frame = frameMemory(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(frame, done, length - done, offset + done);
      if (bytesRead === 0) throw new ShardLogCorruptError(`segment ${segmentName(segment)} ends inside record ${i}`);
      done += bytesRead;
    }
    if (crc32(frame.subarray(8)) !== frame.readUInt32LE(4)) {
      throw new ShardLogCorruptError(`record ${i} in ${join(this.dir, segmentName(segment))} fails its checksum`);
    }
    return frame.subarray(FRAME_HEADER);
  }

  private async reader(segment: number): Promise<FileHandle> {
    let fh = this.readers.get(segment);
    if (!fh) {
      fh = await open(join(this.dir, segmentName(segment)), 'r');
      const raced = this.readers.get(segment);
      if (raced) {
        await fh.close();
        return raced;
      }
      this.readers.set(segment, fh);
    }
    return fh;
  }

  /** Waits for queued appends to reach the disk, then releases the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.loop) await this.loop;
    await this.writer.close();
    for (const fh of this.readers.values()) await fh.close();
    this.readers.clear();
  }
}

/** Adds the segment's intact records to `index`; `torn` when it ends in a partial or damaged frame. */
function scanSegment(buf: Buffer, segment: number, index: RecordIndex): { goodSize: number; torn: boolean } {
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    // Only a segment created and cut short before its magic was synced can look like this.
    return { goodSize: 0, torn: true };
  }
  let off = MAGIC.length;
  while (off < buf.length) {
    if (buf.length - off < FRAME_HEADER) return { goodSize: off, torn: true };
    const bodyLength = buf.readUInt32LE(off);
    const end = off + FRAME_HEADER + bodyLength;
    if (bodyLength > MAX_RECORD_BYTES || end > buf.length) return { goodSize: off, torn: true };
    if (crc32(buf.subarray(off + 8, end)) !== buf.readUInt32LE(off + 4)) return { goodSize: off, torn: true };
    index.push(segment, off, end - off, buf.readUInt32LE(off + 8));
    off = end;
  }
  return { goodSize: off, torn: false };
}
