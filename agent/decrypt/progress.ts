// The progress line `logseal decrypt` draws on a terminal (never on a pipe): groups, MB, lines/s, and an ETA from cursors.
import type { EngineStats } from './engine.js';

export interface ShardPosition {
  from: string;
  written: string;
  to?: string;
}

/**
 * SLS cursors are base64 of a decimal position (the emulator's too); where all of them are, the share of the range
 * already written gives an ETA. Any other cursor: no ETA.
 */
export function cursorNumber(cursor: string): bigint | undefined {
  const text = /^[A-Za-z0-9+/]+={0,2}$/.test(cursor) ? Buffer.from(cursor, 'base64').toString('latin1') : '';
  return /^\d{1,20}$/.test(text) ? BigInt(text) : undefined;
}

/** Share of the bounded ranges written, from 0 to 1; undefined when it cannot be told. */
export function shareDone(positions: readonly ShardPosition[]): number | undefined {
  let total = 0n;
  let done = 0n;
  for (const p of positions) {
    if (p.to === undefined) return undefined;
    const [a, w, b] = [cursorNumber(p.from), cursorNumber(p.written), cursorNumber(p.to)];
    if (a === undefined || w === undefined || b === undefined || b < a) return undefined;
    total += b - a;
    done += (w < b ? w : b) - a;
  }
  return total === 0n ? 1 : Number(done) / Number(total);
}

export function renderProgress(stats: EngineStats, prevLines: number, elapsedMs: number, totalMs: number, share: number | undefined): string {
  const lps = Math.round(((stats.lines - prevLines) * 1000) / Math.max(elapsedMs, 1));
  const mb = (stats.bytesPulled / 1e6).toFixed(1);
  let eta = '';
  if (share !== undefined && share > 0 && share < 1) eta = ` | ETA ${Math.ceil(((1 - share) * totalMs) / share / 1000)}s`;
  else if (share === undefined) eta = ' | following';
  return `decrypt: ${stats.groups} groups | ${mb} MB | ${stats.lines} lines | ${lps} lines/s${eta}`;
}

/** Redraws the line on `stream` every `intervalMs` when it is a TTY; returns the function that clears it. */
export function startProgress(
  stream: NodeJS.WriteStream,
  snapshot: () => { stats: EngineStats; positions: ShardPosition[] },
  intervalMs = 500,
): () => void {
  if (!stream.isTTY) return () => {};
  const started = Date.now();
  let prevAt = started;
  let prevLines = 0;
  const timer = setInterval(() => {
    const { stats, positions } = snapshot();
    const now = Date.now();
    stream.write(`\r\x1b[2K${renderProgress(stats, prevLines, now - prevAt, now - started, shareDone(positions))}`);
    prevAt = now;
    prevLines = stats.lines;
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    stream.write('\r\x1b[2K');
  };
}
