// KmsError: every KMS failure the agent sees, with what the caller can do about it (retry, or fix the CMK), and how
// a failure the SDK threw becomes one.

/** The CMK itself refuses: retrying will not help until someone enables it or cancels its deletion. */
const CMK_UNUSABLE = new Set(['Rejected.Disabled', 'Rejected.PendingDeletion', 'Forbidden.KeyNotFound']);
/** Failures that go away on their own. A retried request carries a fresh nonce, so a nonce clash is one of them. */
const RETRYABLE = new Set(['ServiceUnavailableTemporary', 'InternalFailure', 'SignatureNonceUsed', 'NetworkError', 'Timeout', 'InvalidResponse']);

export interface KmsErrorFields {
  code: string;
  /** HTTP status, 0 when no response arrived. */
  status: number;
  message: string;
  requestId?: string;
}

export class KmsError extends Error {
  override readonly name = 'KmsError';
  readonly code: string;
  readonly status: number;
  readonly requestId?: string;
  readonly retryable: boolean;
  readonly cmkUnusable: boolean;
  /** What it was made from: how it crosses from the KMS thread (kms-thread.ts) to the caller. */
  readonly fields: KmsErrorFields;

  constructor(f: KmsErrorFields) {
    // Shown to users: one line, bounded, and built only from what the server said (never from the request).
    const detail = f.message.replace(/\s+/g, ' ').trim().slice(0, 300);
    super(
      `${f.code}${f.status ? ` (HTTP ${f.status})` : ''}${detail ? `: ${detail}` : ''}` +
        (f.requestId ? ` [RequestId ${f.requestId}]` : ''),
    );
    this.fields = { ...f };
    this.code = f.code;
    this.status = f.status;
    if (f.requestId !== undefined) this.requestId = f.requestId;
    this.cmkUnusable = CMK_UNUSABLE.has(f.code);
    this.retryable =
      !this.cmkUnusable && (RETRYABLE.has(f.code) || f.code.startsWith('Throttling') || f.status >= 500);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
  'EPROTO',
  'UND_ERR_SOCKET',
]);

/** Turns whatever the SDK threw into a KmsError. Its own messages embed the request URL, so they are not reused. */
export function toKmsError(err: unknown): KmsError {
  if (err instanceof KmsError) return err;
  const e = (err ?? {}) as { code?: unknown; name?: unknown; message?: unknown; data?: Record<string, unknown> };
  const data = e.data;
  const statusInMessage = typeof e.message === 'string' ? /^code: (\d{3}),/.exec(e.message.replace(/^\S+: /, '')) : null;
  const status = Number(data?.['HttpStatus'] ?? data?.['httpStatus'] ?? statusInMessage?.[1] ?? 0) || 0;
  const serverCode = data?.['Code'] ?? data?.['code'];
  if (typeof serverCode === 'string' && serverCode !== '') {
    const requestId = data?.['RequestId'] ?? data?.['requestId'];
    return new KmsError({
      code: serverCode,
      status,
      message: String(data?.['Message'] ?? data?.['message'] ?? ''),
      ...(typeof requestId === 'string' ? { requestId } : {}),
    });
  }
  if (status > 0 && typeof e.code === 'string') {
    // An error status without a KMS error body (a proxy in the way, say).
    const code = e.code.replace(/Error$/, '');
    return new KmsError({
      code: code && code !== 'undefined' ? code : 'HttpError',
      status,
      message: 'no error details in the response',
    });
  }
  if (e.name === 'RequestTimeoutError') return new KmsError({ code: 'Timeout', status: 0, message: 'no answer in time' });
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) {
    return new KmsError({ code: 'NetworkError', status: 0, message: e.code });
  }
  if (err instanceof SyntaxError) {
    return new KmsError({ code: 'InvalidResponse', status: 0, message: 'the response is not JSON' });
  }
  return new KmsError({ code: 'ClientError', status: 0, message: err instanceof Error ? err.name : 'unknown failure' });
}
