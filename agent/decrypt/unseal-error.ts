// UnsealError: sealed data that does not open; `logseal decrypt` stops on it with exit code 2.

/** A record that does not authenticate, or a group that is not logseal v1: the run stops, nothing of it is printed. */
export class UnsealError extends Error {
  override readonly name = 'UnsealError';
  constructor(
    readonly shard: number,
    readonly cursor: string,
    reason: string,
  ) {
    super(`shard ${shard} cursor ${cursor}: ${reason}`);
  }
}
