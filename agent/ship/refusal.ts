// Which SLS refusals are final for the batch that was sent, and which say the environment must be fixed first.
import type { SlsError } from './errors.js';

/**
 * Codes by which SLS refuses the body itself: the same bytes will be refused again however often and whenever they
 * are sent, while other batches go through. Such a batch belongs in the dead-letter directory, not at the head of
 * the spool where it would hold up everything behind it.
 *
 * Not in this list, on purpose, although also 4xx and not retryable: signature and credential refusals
 * (SignatureNotMatch, Unauthorized, InvalidAccessKeyId), RequestTimeExpired (clock skew), quota codes,
 * ProjectNotExist / LogStoreNotExist, InvalidCompressType and KMS-side refusals of an encrypted Logstore. They say
 * nothing about the batch: every batch would be refused the same way until someone fixes the credentials, the clock,
 * the quota or the Logstore, and dead-lettering would empty the whole pipeline into the dead-letter directory. Those
 * hold (in the spool) and are logged, as before.
 */
const PERMANENT_CODES = new Set([
  'PostBodyTooLarge', // the group or one of its logs is over the service's limits
  'PostBodyInvalid', // the protobuf body cannot be parsed
  'PostBodyUncompressError', // the body does not decompress as its x-log-compresstype says
  'InvalidBodyRawSize', // x-log-bodyrawsize does not match the body
  'InvalidLogSize',
  'InvalidTimestamp',
  'InvalidEncoding',
  'InvalidKey',
]);

/** True when SLS refused this batch's body for good (a 4xx that no retry fixes), so it should be dead-lettered. */
export function isPermanentRefusal(err: SlsError): boolean {
  return !err.retryable && err.status >= 400 && err.status < 500 && PERMANENT_CODES.has(err.code);
}
