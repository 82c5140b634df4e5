// The read side's errors, in a module of their own: the CLI maps them to exit codes (cli/exit.ts) without loading
// the decrypt engine, its worker pool and piscina into every command, the agent's `run` included.

/** A record that does not authenticate, or a group that is not logseal v1: the run stops, nothing of it is printed. */
export class UnsealError extends Error {
  override readonly name = 'UnsealError';
  /** `where` names the group: `shard <n> cursor <c>`, or a dead-letter file. */
  constructor(
    readonly where: string,
    reason: string,
  ) {
    super(`${where}: ${reason}`);
  }
}

/** A cursor the service refuses (past the end of the shard, or not one of its cursors). */
export class CursorError extends Error {
  override readonly name = 'CursorError';
  constructor(
    readonly shard: number,
    readonly cursor: string,
    detail: string,
  ) {
    super(`shard ${shard} cursor ${cursor}: ${detail}`);
  }
}

/** A dead-letter group sealed for another project than the reader's config names. */
export class DeadLetterProjectError extends Error {
  override readonly name = 'DeadLetterProjectError';
}
