// The search's errors, apart from the search itself, so the CLI can map them to exit codes without loading it.

/** A shipped Log that does not authenticate or is not logseal v1: the search stops, nothing of it is printed. */
export class SearchUnsealError extends Error {
  override readonly name = 'SearchUnsealError';
}

/** The Logstore cannot be searched as configured (no index, say). */
export class SearchSetupError extends Error {
  override readonly name = 'SearchSetupError';
}
