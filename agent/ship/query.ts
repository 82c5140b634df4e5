// GetLogs and the index API as the SLS JSON API spells them (PROTOCOLS.md "Reading APIs beyond PullLogs").

export interface GetLogsRequest {
  /** Unix seconds, [from, to). */
  from: number;
  to: number;
  query: string;
  /** Logs per call, at most 100. */
  line: number;
  offset: number;
  reverse?: boolean;
  topic?: string;
}

/** One log of a GetLogs answer: its contents plus `__time__`, `__topic__`, `__source__` and `__tag__:<key>` fields. */
export type QueriedLog = Record<string, string>;

export interface GetLogsPage {
  logs: QueriedLog[];
  /** `x-log-progress: Complete`; otherwise the answer may be partial and the same call should be made again. */
  complete: boolean;
}

/** The index of one key as searchable-field tokens need it: text, token separator space, case-insensitive. */
export const TEXT_KEY_INDEX = { type: 'text', token: [' '], caseSensitive: false } as const;

export function getLogsQuery(r: GetLogsRequest): Record<string, string> {
  const q: Record<string, string> = {
    type: 'log',
    from: String(r.from),
    to: String(r.to),
    query: r.query,
    line: String(r.line),
    offset: String(r.offset),
    reverse: r.reverse ? 'true' : 'false',
  };
  if (r.topic !== undefined) q.topic = r.topic;
  return q;
}

/** The logs of a GetLogs answer, values as strings (SLS sends `__time__` as a number); undefined when it is not one. */
export function parseQueriedLogs(json: unknown): QueriedLog[] | undefined {
  if (!Array.isArray(json)) return undefined;
  const logs: QueriedLog[] = [];
  for (const item of json) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
    const log: QueriedLog = {};
    for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
      if (typeof v === 'string') log[k] = v;
      else if (typeof v === 'number') log[k] = String(v);
    }
    logs.push(log);
  }
  return logs;
}

export function indexBody(keys: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ keys }));
}

/** The keys of a GetIndex answer; undefined when it is not one. */
export function parseIndexKeys(json: unknown): Record<string, unknown> | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const keys = (json as { keys?: unknown }).keys;
  if (keys === undefined) return {};
  return typeof keys === 'object' && keys !== null && !Array.isArray(keys) ? (keys as Record<string, unknown>) : undefined;
}
