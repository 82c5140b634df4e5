// SlsError: every failure of an SLS call, classified once as worth retrying or not (PROTOCOLS.md).

/** Codes that describe a transient condition: wait and send the same request again. */
const RETRYABLE_CODES = new Set([
  'WriteQuotaExceed',
  'ShardWriteQuotaExceed',
  'ExceedQuota',
  'InternalServerError',
  'ServerBusy',
  'RequestTimeout',
  'NetworkError',
  'Aborted',
]);

export interface SlsErrorInit {
  /** The service's `errorCode`, or `NetworkError` / `RequestTimeout` / `Aborted` / `InvalidResponse` from this side. */
  code: string;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  /** What went wrong, in words (the service's `errorMessage`, or the socket error). */
  detail: string;
  /** The call, e.g. `PutLogs app`; starts the message. */
  operation?: string;
  requestId?: string;
  /** Defaults to the PROTOCOLS.md classification of code and status. */
  retryable?: boolean;
}

export class SlsError extends Error {
  override name = 'SlsError';
  readonly code: string;
  readonly status: number;
  readonly requestId?: string;
  /** True when sending the same request again later may succeed (the caller may also spool it). */
  readonly retryable: boolean;

  constructor(init: SlsErrorInit) {
    const where = init.status === 0 ? 'no response' : `HTTP ${init.status}`;
    const request = init.requestId ? `, request ${init.requestId}` : '';
    const prefix = init.operation ? `${init.operation}: ` : '';
    super(oneLine(`${prefix}${init.code} (${where}${request}): ${init.detail}`));
    this.code = init.code;
    this.status = init.status;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    this.retryable = init.retryable ?? isRetryable(init.code, init.status);
  }
}

/** Quota, throttling and 5xx answers, and requests that got no answer, are retryable; other 4xx are not. */
export function isRetryable(code: string, status: number): boolean {
  return RETRYABLE_CODES.has(code) || status >= 500;
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 500 ? `${flat.slice(0, 497)}...` : flat;
}
