// KmsError: every KMS failure the agent sees, with what the caller can do about it (retry, or fix the CMK).

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

  constructor(f: KmsErrorFields) {
    // Shown to users: one line, bounded, and built only from what the server said (never from the request).
    const detail = f.message.replace(/\s+/g, ' ').trim().slice(0, 300);
    super(
      `${f.code}${f.status ? ` (HTTP ${f.status})` : ''}${detail ? `: ${detail}` : ''}` +
        (f.requestId ? ` [RequestId ${f.requestId}]` : ''),
    );
    this.code = f.code;
    this.status = f.status;
    if (f.requestId !== undefined) this.requestId = f.requestId;
    this.cmkUnusable = CMK_UNUSABLE.has(f.code);
    this.retryable =
      !this.cmkUnusable && (RETRYABLE.has(f.code) || f.code.startsWith('Throttling') || f.status >= 500);
  }
}
