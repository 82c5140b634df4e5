// SLS request signature v1 (HMAC-SHA1), as PROTOCOLS.md describes it. The emulator verifies with the same code.
import { createHmac } from 'node:crypto';

export interface SignableRequest {
  method: string;
  /** The path only, e.g. `/logstores/app/shards/lb`. */
  path: string;
  /** Query parameters, unencoded. */
  query?: Record<string, string>;
  /** Header names in any case. */
  headers: Record<string, string | undefined>;
}

function header(headers: SignableRequest['headers'], name: string): string {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && v !== undefined) return v;
  return '';
}

export function canonicalResource(path: string, query?: Record<string, string>): string {
  const keys = Object.keys(query ?? {}).sort();
  if (keys.length === 0) return path;
  return `${path}?${keys.map((k) => `${k}=${query![k]}`).join('&')}`;
}

export function stringToSign(req: SignableRequest): string {
  const canonicalHeaders = Object.entries(req.headers)
    .filter(([k, v]) => v !== undefined && /^x-(log|acs)-/.test(k.toLowerCase()))
    .map(([k, v]) => [k.toLowerCase(), v as string] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
  return (
    `${req.method.toUpperCase()}\n` +
    `${header(req.headers, 'content-md5')}\n` +
    `${header(req.headers, 'content-type')}\n` +
    `${header(req.headers, 'date')}\n` +
    canonicalHeaders +
    canonicalResource(req.path, req.query)
  );
}

/** base64(HMAC-SHA1(secret, stringToSign)). */
export function signatureV1(accessKeySecret: string, req: SignableRequest): string {
  return createHmac('sha1', accessKeySecret).update(stringToSign(req), 'utf8').digest('base64');
}

/** The `Authorization` header value. */
export function authorizationV1(accessKeyId: string, accessKeySecret: string, req: SignableRequest): string {
  return `LOG ${accessKeyId}:${signatureV1(accessKeySecret, req)}`;
}
