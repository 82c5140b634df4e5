// A gzip file read as its decompressed bytes, streaming through node:zlib; positions are decompressed offsets.
//
// Reads are sequential in practice (a tailer moves forward; the fingerprint reads the head): a read before what was
// already decompressed restarts decompression from the beginning. A stream that ends early (the compressor is still
// writing it) serves what it decompressed so far, which is a prefix of the final content, so lines framed from it
// stay valid; when the file grows, decompression restarts and picks up from the tailer's offset.
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const COMPRESSED_READ_BYTES = 64 * 1024;
/** What stat() reports as the size while the end of the stream has not been reached: "there may be more". */
export const GZIP_SIZE_UNKNOWN = Number.MAX_SAFE_INTEGER;

type State = 'running' | 'complete' | 'truncated';

/** A gzip file that is not one (bad header, bad checksum); reported as a read error of that file. */
export class GzipFileError extends Error {
  override name = 'GzipFileError';
}

export class GzipFile {
  private chunks: AsyncIterator<Buffer> | undefined;
  private stream: Readable | undefined;
  /** Decompressed bytes not yet read past, starting at decompressed offset `base`. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private base = 0;
  private state: State = 'running';
  /** Compressed size when decompression last stopped early: a different size means the file grew. */
  private truncatedAt = -1;

  constructor(private readonly fh: FileHandle) {}

  /** The whole stream was decompressed and its checksum verified. */
  get complete(): boolean {
    return this.state === 'complete';
  }

  /** The file's fstat, with `size` = the decompressed length once known, GZIP_SIZE_UNKNOWN before. */
  async stat(): Promise<Stats> {
    const st = await this.fh.stat();
    if (this.state === 'truncated' && st.size !== this.truncatedAt) this.restart();
    const size = this.state === 'complete' ? this.base + this.pendingBytes : GZIP_SIZE_UNKNOWN;
    return Object.assign(Object.create(Object.getPrototypeOf(st) as object) as Stats, st, { size });
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    if (position < this.base) this.restart();
    if (this.state === 'truncated' && (await this.fh.stat()).size !== this.truncatedAt) this.restart();
    // Drop what lies before `position`, decompressing up to it.
    for (;;) {
      while (this.pending.length > 0 && this.base + this.pending[0].length <= position) {
        this.base += this.pending[0].length;
        this.pendingBytes -= this.pending[0].length;
        this.pending.shift();
      }
      if (this.pending.length > 0 || !(await this.more())) break;
    }
    let bytesRead = 0;
    let skip = position - this.base;
    for (let i = 0; bytesRead < length; i++) {
      if (i === this.pending.length && !(await this.more())) break;
      const c = this.pending[i];
      const n = Math.min(c.length - skip, length - bytesRead);
      if (n > 0) c.copy(buffer, offset + bytesRead, skip, skip + n);
      bytesRead += Math.max(0, n);
      skip = Math.max(0, skip - c.length);
    }
    return { bytesRead };
  }

  /** Decompressed length of what the file holds now (decompresses it all, keeping nothing). */
  async measure(): Promise<number> {
    this.restart();
    while (await this.more()) {
      this.base += this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
    }
    const length = this.base;
    this.restart();
    return length;
  }

  async close(): Promise<void> {
    this.stream?.destroy();
    await this.fh.close();
  }

  /** Decompresses one more chunk into `pending`; false at the end of what there is (complete or truncated). */
  private async more(): Promise<boolean> {
    if (this.state !== 'running') return false;
    if (!this.chunks) this.start();
    try {
      const r = await this.chunks!.next();
      if (r.done) {
        this.state = 'complete';
        return false;
      }
      this.pending.push(r.value);
      this.pendingBytes += r.value.length;
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') {
        // "unexpected end of file": everything before it was decompressed and handed out already.
        this.state = 'truncated';
        this.truncatedAt = (await this.fh.stat()).size;
        return false;
      }
      throw new GzipFileError(`not a valid gzip stream: ${String((err as Error).message).split('\n')[0]}`);
    }
  }

  private start(): void {
    const fh = this.fh;
    async function* compressed(): AsyncGenerator<Buffer> {
      for (let at = 0; ; ) {
        const buf = Buffer.allocUnsafe(COMPRESSED_READ_BYTES);
        const { bytesRead } = await fh.read(buf, 0, buf.length, at);
        if (bytesRead === 0) return;
        at += bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    }
    const source = Readable.from(compressed(), { objectMode: false });
    const gunzip = createGunzip();
    source.on('error', (err) => gunzip.destroy(err));
    this.stream = source.pipe(gunzip);
    this.chunks = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  private restart(): void {
    this.stream?.destroy();
    this.stream = undefined;
    this.chunks = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    this.base = 0;
    this.state = 'running';
    this.truncatedAt = -1;
  }
}
