// Builds the headers of one SLS request (PROTOCOLS.md) and signs them with signature v1.
import { createHash } from 'node:crypto';
import type { SlsCredentials } from './credentials.js';
import { authorizationV1 } from './signature.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RequestToSign {
  method: HttpMethod;
  /** Path only, unencoded; SLS names never need encoding. */
  path: string;
  /** Query parameters, unencoded: signed as they are, percent-encoded only in the URL. */
  query?: Record<string, string>;
  body?: Uint8Array;
  /** Content-MD5 of `body` if the caller has it already; computed here otherwise. */
  bodyMd5?: string;
  contentType?: string;
  /** Extra headers (`x-log-*` ones are signed too). */
  headers?: Record<string, string>;
  /** The `<project>.<endpoint>` virtual host. */
  host: string;
  credentials: SlsCredentials;
  date: Date;
}

export const API_VERSION = '0.6.0';

/** Uppercase hex MD5, the form SLS wants in Content-MD5. */
export function contentMd5(body: Uint8Array): string {
  return createHash('md5').update(body).digest('hex').toUpperCase();
}

/** Every header the request carries, `Authorization` included. */
export function signedHeaders(req: RequestToSign): Record<string, string> {
  const headers: Record<string, string> = {
    Host: req.host,
    Date: req.date.toUTCString(),
    'User-Agent': 'logseal',
    'x-log-apiversion': API_VERSION,
    'x-log-signaturemethod': 'hmac-sha1',
  };
  if (req.body !== undefined) {
    headers['Content-Type'] = req.contentType ?? 'application/json';
    headers['Content-MD5'] = req.bodyMd5 ?? contentMd5(req.body);
    headers['Content-Length'] = String(req.body.byteLength);
    headers['x-log-bodyrawsize'] = String(req.body.byteLength);
  } else if (req.method !== 'GET') {
    headers['Content-Length'] = '0';
    headers['x-log-bodyrawsize'] = '0';
  }
  Object.assign(headers, req.headers);
  if (req.credentials.securityToken) headers['x-acs-security-token'] = req.credentials.securityToken;
  headers['Authorization'] = authorizationV1(req.credentials.accessKeyId, req.credentials.accessKeySecret, {
    method: req.method,
    path: req.path,
    query: req.query,
    headers,
  });
  return headers;
}

/** The request target: the path, then the query percent-encoded (cursors hold `+`, `/` and `=`). */
export function requestTarget(path: string, query?: Record<string, string>): string {
  const pairs = Object.entries(query ?? {});
  if (pairs.length === 0) return path;
  return `${path}?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}
