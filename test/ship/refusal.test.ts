// Which SLS refusals are final for a batch (dead-letter it) and which are the environment's (hold and retry).
import { describe, expect, it } from 'vitest';
import { SlsError, isPermanentRefusal } from '../../agent/ship/index.js';

const refusal = (code: string, status: number) => isPermanentRefusal(new SlsError({ code, status, detail: 'x' }));

describe('isPermanentRefusal', () => {
  it('is true for refusals of the body itself', () => {
    for (const code of ['PostBodyTooLarge', 'PostBodyInvalid', 'PostBodyUncompressError', 'InvalidBodyRawSize']) expect(refusal(code, 400), code).toBe(true);
  });

  it('is false for what every batch would meet: credentials, clock, quota, missing Logstore, outages', () => {
    for (const [code, status] of [
      ['SignatureNotMatch', 401],
      ['Unauthorized', 401],
      ['InvalidAccessKeyId', 401],
      ['RequestTimeExpired', 400],
      ['InvalidCompressType', 400],
      ['WriteQuotaExceed', 403],
      ['ProjectNotExist', 404],
      ['LogStoreNotExist', 404],
      ['KMSKeyDisabled', 403],
      ['ServerBusy', 503],
      ['InternalServerError', 500],
      ['NetworkError', 0],
    ] as const) {
      expect(refusal(code, status), code).toBe(false);
    }
  });

  it('is false when a body code comes with a status that is not a 4xx (a proxy, say)', () => {
    expect(refusal('PostBodyTooLarge', 502)).toBe(false);
  });
});
