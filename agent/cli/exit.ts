// Maps every error the user can act on to one line on stderr and an exit code; stack traces are never shown.
import { ConfigError, CredentialsError } from '../config/index.js';
import { DeadLetterFormatError } from '../dead-letter/index.js';
// The read side's errors from their own modules: the decrypt and search barrels would load the engines into every command.
import { CursorError, DeadLetterProjectError, UnsealError } from '../decrypt/errors.js';
import { WhereSyntaxError } from '../decrypt/where.js';
import { IndexKeyError, KmsError } from '../keys/index.js';
import { BackendUnavailableError } from '../seal/index.js';
import { SearchUnsealError } from '../search/errors.js';
import { SlsError } from '../ship/index.js';

export const EXIT = { ok: 0, failure: 1, unauthenticated: 2, usage: 64, config: 78 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function describeError(err: unknown): { message: string; code: number } {
  const text = (e: Error) => e.message.replace(/\s*\n\s*/g, ' ').trim();
  if (err instanceof ConfigError) return { message: text(err), code: EXIT.config };
  if (err instanceof CredentialsError) return { message: text(err), code: EXIT.config };
  if (err instanceof BackendUnavailableError) return { message: text(err), code: EXIT.config };
  if (err instanceof UsageError) return { message: text(err), code: EXIT.usage };
  if (err instanceof IndexKeyError) return { message: text(err), code: EXIT.config };
  if (err instanceof WhereSyntaxError) return { message: text(err), code: EXIT.usage };
  if (err instanceof CursorError) return { message: `--cursor: ${text(err)}`, code: EXIT.usage };
  if (err instanceof UnsealError) return { message: `decrypt: ${text(err)}`, code: EXIT.unauthenticated };
  if (err instanceof DeadLetterFormatError) return { message: `decrypt: ${text(err)}`, code: EXIT.failure };
  if (err instanceof DeadLetterProjectError) return { message: text(err), code: EXIT.usage };
  if (err instanceof SearchUnsealError) return { message: `search: ${text(err)}`, code: EXIT.unauthenticated };
  if (err instanceof SlsError) return { message: `SLS ${err.code}: ${text(err)}`, code: EXIT.failure };
  if (err instanceof KmsError) return { message: `KMS ${err.code}: ${text(err)}`, code: EXIT.failure };
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = text(err);
    return { message: code && !message.startsWith(code) ? `${code}: ${message}` : message, code: EXIT.failure };
  }
  return { message: String(err), code: EXIT.failure };
}

/** Runs a command body; any error ends the process with its one-line message and exit code. */
export async function runCommand(body: () => Promise<number | void>): Promise<void> {
  try {
    const code = await body();
    if (typeof code === 'number') process.exitCode = code;
  } catch (err) {
    const { message, code } = describeError(err);
    process.stderr.write(`logseal: ${message}\n`);
    process.exitCode = code;
  }
}
