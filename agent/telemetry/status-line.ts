// The one-line progress display shown on a terminal while the agent runs.

export interface StatusSnapshot {
  linesShipped: number;
  bytesRead: number;
  inFlight: number;
  spoolBytes: number;
  keyAgeMs?: number;
  keyState: string;
}

function mb(n: number): string {
  return (n / 1e6).toFixed(2);
}

/** Renders rates from two snapshots `elapsedMs` apart. */
export function renderStatus(prev: StatusSnapshot, cur: StatusSnapshot, elapsedMs: number): string {
  const secs = Math.max(elapsedMs, 1) / 1000;
  const lps = Math.round((cur.linesShipped - prev.linesShipped) / secs);
  const mbps = mb((cur.bytesRead - prev.bytesRead) / secs);
  const key = cur.keyState === 'ok' ? `key ${Math.round((cur.keyAgeMs ?? 0) / 1000)}s` : `key ${cur.keyState.toUpperCase()}`;
  return `shipped ${cur.linesShipped} lines | ${lps} lines/s | ${mbps} MB/s read | in flight ${cur.inFlight} | spool ${mb(cur.spoolBytes)} MB | ${key}`;
}

/** Redraws the status line on a TTY every `intervalMs`; returns a stop function. */
export function startStatusLine(stream: NodeJS.WriteStream, snapshot: () => StatusSnapshot, intervalMs = 2000): () => void {
  if (!stream.isTTY) return () => {};
  let prev = snapshot();
  let prevAt = Date.now();
  const timer = setInterval(() => {
    const cur = snapshot();
    const now = Date.now();
    stream.write(`\r\x1b[2K${renderStatus(prev, cur, now - prevAt)}`);
    prev = cur;
    prevAt = now;
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    stream.write('\r\x1b[2K');
  };
}
