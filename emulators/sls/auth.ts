// Checks the common SLS request headers and the v1 signature, the way the service refuses a request it cannot trust.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { signatureV1 } from '../../agent/ship/signature.js';
import { SlsApiError } from './errors.js';

export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
}

export interface SignedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
}

// RFC 822 / RFC 1123 date as the SDKs send it, e.g. `Thu, 12 Nov 2015 06:54:26 GMT`.
const RFC822_DATE = /^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const AUTHORIZATION = /^LOG ([^:\s]+):(\S+)$/;

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Throws the SLS error a real endpoint would answer with; returns when the request is authentic and fresh. */
export function verifyRequest(req: SignedRequest, creds: Credentials, nowMs: number, maxSkewMs: number): void {
  const date = single(req.headers, 'date');
  if (date === undefined) throw new SlsApiError('MissingDate', 'Date does not exist in http header.');
  const dateMs = Date.parse(date);
  if (!RFC822_DATE.test(date) || Number.isNaN(dateMs)) throw new SlsApiError('InvalidDateFormat', `Date ${date} must follow RFC822.`);

  const apiVersion = single(req.headers, 'x-log-apiversion');
  if (apiVersion === undefined) throw new SlsApiError('MissingAPIVersion', 'x-log-apiversion does not exist in http header.');
  if (apiVersion !== '0.6.0') throw new SlsApiError('InvalidAPIVersion', `x-log-apiversion ${apiVersion} is unsupported.`);

  const method = single(req.headers, 'x-log-signaturemethod');
  if (method === undefined) throw new SlsApiError('MissingSignatureMethod', 'x-log-signaturemethod does not exist in http header.');
  if (method !== 'hmac-sha1') throw new SlsApiError('InvalidSignatureMethod', `signature method ${method} is unsupported.`);

  const authorization = single(req.headers, 'authorization');
  if (authorization === undefined) throw new SlsApiError('MissAccessKeyId', 'x-log-accesskeyid does not exist in header.');
  const m = AUTHORIZATION.exec(authorization);
  if (!m) throw new SlsApiError('Unauthorized', "Authorization header must be 'LOG <AccessKeyId>:<Signature>'.");
  const [, keyId, given] = m as unknown as [string, string, string];

  if (Math.abs(nowMs - dateMs) > maxSkewMs) {
    throw new SlsApiError(
      'RequestTimeExpired',
      `Request time ${date} has been expired while server time is ${new Date(nowMs).toUTCString()}.`,
    );
  }
  if (keyId !== creds.accessKeyId) throw new SlsApiError('Unauthorized', `AccessKeyId not found: ${keyId}`);

  const headers: Record<string, string> = {};
  for (const name of Object.keys(req.headers)) {
    const v = single(req.headers, name);
    if (v !== undefined) headers[name] = v;
  }
  const expected = signatureV1(creds.accessKeySecret, { method: req.method, path: req.path, query: req.query, headers });
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  // The expected signature is never echoed: with the string-to-sign it would help forge requests.
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new SlsApiError('SignatureNotMatch', `Signature ${given} is not matched.`);
  }
}
