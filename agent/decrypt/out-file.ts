// `--out FILE`: the output goes to a temporary file beside FILE, which replaces FILE only once complete and on disk.
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';

export interface AtomicFile {
  stream: Writable;
  /** Flushes, fsyncs and renames the temporary file to FILE. */
  commit(): Promise<void>;
  /** Removes the temporary file; FILE is left as it was. */
  discard(): Promise<void>;
}

export async function openAtomic(file: string): Promise<AtomicFile> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // Plaintext logs: readable by the owner only. `flush` fsyncs the file before it is closed.
  const stream: WriteStream = createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  let settled = false;
  return {
    stream,
    async commit() {
      settled = true;
      await new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.once('close', () => resolve());
        stream.end();
      });
      await rename(tmp, file);
      // The rename itself is durable only once the directory is synced.
      const d = await open(dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    },
    async discard() {
      if (settled) return;
      settled = true;
      await new Promise<void>((resolve) => {
        if (stream.closed) return resolve();
        stream.once('close', () => resolve());
        stream.destroy();
      });
      await unlink(tmp).catch(() => {});
    },
  };
}
