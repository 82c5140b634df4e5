// SLS credentials: a fixed AccessKey pair (optionally an STS token), or a function that returns fresh ones.
import { SlsError } from './errors.js';

export interface SlsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  /** STS token; sent as `x-acs-security-token`. */
  securityToken?: string;
}

/** A function source is asked before every attempt, so it can hand out rotated STS tokens (it should cache). */
export type CredentialSource = SlsCredentials | (() => Promise<SlsCredentials>);

export async function resolveCredentials(source: CredentialSource, operation: string): Promise<SlsCredentials> {
  if (typeof source !== 'function') return source;
  let creds: SlsCredentials;
  try {
    creds = await source();
  } catch (err) {
    throw new SlsError({
      code: 'CredentialsUnavailable',
      status: 0,
      operation,
      detail: `the credential source failed: ${err instanceof Error ? err.message : String(err)}`,
      retryable: true,
    });
  }
  if (!creds?.accessKeyId || !creds.accessKeySecret) {
    throw new SlsError({ code: 'CredentialsUnavailable', status: 0, operation, detail: 'the credential source returned no AccessKey', retryable: false });
  }
  return creds;
}
