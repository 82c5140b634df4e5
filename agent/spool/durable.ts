// What the spool and the dead-letter directory share to write a file that is complete or absent after a power loss.
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';

/** The errno code of a failed fs call (ENOENT, EACCES…), else its message. */
export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? (err instanceof Error ? err.message : String(err));
}

/** fsyncs a directory, so that a rename into it is on disk too. */
export async function syncDirectory(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, constants.O_RDONLY);
    await fh.sync();
  } catch (err) {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
    const code = errorCode(err);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}

/**
 * Writes `parts` to `tmp` (0600, created new), fsyncs it, renames it to `final` and fsyncs the directory: `final` is
 * then complete or absent, even after a power loss. On failure `tmp` is removed and the error rethrown.
 */
export async function writeDurably(dir: string, tmp: string, final: string, parts: Uint8Array[]): Promise<void> {
  try {
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await fh.writev(parts);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
    await syncDirectory(dir);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
