// File system errors as the input reports them: the errno code and a short reason, on one line.

export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? 'EIO';
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in system',
  EIO: 'I/O error',
};

export function describeError(err: unknown): string {
  const code = errorCode(err);
  return REASONS[code] ? `${REASONS[code]} (${code})` : code;
}

/** The path is simply not there (any more): not worth an error event. */
export function isGone(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
