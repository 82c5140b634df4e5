// Alibaba Cloud RPC signature v1 (HMAC-SHA1 over the sorted, RFC 3986-encoded parameters), as PROTOCOLS.md describes.
// The emulator verifies with it; tests sign hand-built requests with it.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** RFC 3986: only `A-Za-z0-9-_.~` stay as they are. */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `METHOD&%2F&` + percentEncode(sorted `k=v` pairs joined by `&`), every parameter but `Signature`. */
export function rpcStringToSign(method: string, params: Record<string, string>): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join('&');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

/** base64(HMAC-SHA1(secret + "&", stringToSign)). */
export function rpcSignature(method: string, params: Record<string, string>, accessKeySecret: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(rpcStringToSign(method, params), 'utf8').digest('base64');
}

export function rpcSignatureMatches(
  method: string,
  params: Record<string, string>,
  accessKeySecret: string,
  signature: string,
): boolean {
  const expected = Buffer.from(rpcSignature(method, params, accessKeySecret), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** `2024-01-02T03:04:05Z`, what the official SDK sends. */
export function rpcTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
