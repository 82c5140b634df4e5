// The dead-letter directory: sealed batches SLS refused for good, kept (bounded) for an operator instead of blocking.
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorCode, writeDurably } from '../spool/index.js';
import { encodeDeadLetterHead, type DeadLetterMeta } from './entry-file.js';

export interface DeadLetterOptions {
  dir: string;
  /** Bytes of files the directory may hold; 0 keeps none. */
  maxBytes: number;
}

export type DeadLetterOutcome =
  | { stored: true; file: string; bytes: number; usedBytes: number }
  | { stored: false; bytes: number; usedBytes: number };

/** Writing to the dead-letter directory failed (permissions, disk full): the batch was not stored. */
export class DeadLetterError extends Error {
  override readonly name = 'DeadLetterError';
}

export const DEAD_LETTER_SUFFIX = '.dead';
const TMP_SUFFIX = '.tmp';

/**
 * Past `maxBytes` a new batch is refused (dropped by the caller, which logs and counts it) rather than the oldest
 * deleted: the files are evidence an operator is looking at, and deleting some behind their back would change it
 * under them. Room is measured on the directory at each write, so files an operator removed free space at once;
 * refusals are rare enough for that scan not to matter.
 */
export class DeadLetterDir {
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;

  private constructor(readonly dir: string, private readonly maxBytes: number) {}

  static async open(o: DeadLetterOptions): Promise<DeadLetterDir> {
    try {
      await mkdir(o.dir, { recursive: true, mode: 0o700 });
      await chmod(o.dir, 0o700);
    } catch (err) {
      throw new DeadLetterError(`dead-letter directory ${o.dir}: cannot create (${errorCode(err)})`);
    }
    return new DeadLetterDir(o.dir, o.maxBytes);
  }

  /** Bytes the directory's dead-letter files take now. */
  async usedBytes(): Promise<number> {
    let total = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!name.endsWith(DEAD_LETTER_SUFFIX)) continue;
      total += (await stat(path.join(this.dir, name)).catch(() => undefined))?.size ?? 0;
    }
    return total;
  }

  /** Writes one refused batch durably (file and directory fsynced, mode 0600), unless it would not fit. */
  put(meta: DeadLetterMeta, body: Uint8Array): Promise<DeadLetterOutcome> {
    const run = this.queue.then(() => this.putNow(meta, body));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async putNow(meta: DeadLetterMeta, body: Uint8Array): Promise<DeadLetterOutcome> {
    const head = encodeDeadLetterHead(meta, body);
    const bytes = head.length + body.byteLength;
    const used = await this.usedBytes();
    if (used + bytes > this.maxBytes) return { stored: false, bytes, usedBytes: used };
    // Names sort by refusal time; pid and sequence keep two refusals of one millisecond apart.
    const name = `${String(meta.refusedAt).padStart(15, '0')}-${process.pid}-${String(++this.seq).padStart(6, '0')}${DEAD_LETTER_SUFFIX}`;
    const final = path.join(this.dir, name);
    const tmp = final + TMP_SUFFIX;
    try {
      await writeDurably(this.dir, tmp, final, [head, body]);
    } catch (err) {
      throw new DeadLetterError(`dead-letter directory ${this.dir}: cannot write ${name} (${errorCode(err)})`);
    }
    return { stored: true, file: final, bytes, usedBytes: used + bytes };
  }
}
