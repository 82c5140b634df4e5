// What the spool and the dead-letter directory share to make a renamed file survive a power loss.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

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
