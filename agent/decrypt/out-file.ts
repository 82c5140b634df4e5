// `--out FILE`: the output goes to a temporary file beside FILE, which replaces FILE only once complete and on disk.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
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
  // Plaintext logs: readable by the owner only.
  const handle = await open(tmp, 'wx', 0o600);
  const stream = handle.createWriteStream({ autoClose: false });
  let settled = false;
  return {
    stream,
    async commit() {
      settled = true;
      stream.end();
      await finished(stream);
      await handle.sync();
      await handle.close();
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
      stream.destroy();
      await handle.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    },
  };
}
