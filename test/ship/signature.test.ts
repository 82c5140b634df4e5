// Signature v1: string-to-sign written out by hand, HMAC-SHA1 computed here independently of the module.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorizationV1, canonicalResource, signatureV1, stringToSign } from '../../agent/ship/signature.js';
import { contentMd5, signedHeaders } from '../../agent/ship/signed-request.js';

const SECRET = 'test-secret-0123456789';

function hmac(s: string, secret = SECRET): string {
  return createHmac('sha1', secret).update(s, 'utf8').digest('base64');
}

describe('signature v1', () => {
  it('PutLogs: verb, MD5, type, date, sorted x-log-* headers, resource', () => {
    const req = {
      method: 'POST',
      path: '/logstores/app/shards/lb',
      headers: {
        Host: 'proj.cn-hangzhou.log.aliyuncs.com',
        'Content-Type': 'application/x-protobuf',
        'Content-MD5': '5D41402ABC4B2A76B9719D911017C592',
        'Content-Length': '5',
        Date: 'Mon, 03 Nov 2025 08:00:00 GMT',
        'x-log-signaturemethod': 'hmac-sha1',
        'x-log-compresstype': 'lz4',
        'x-log-bodyrawsize': '1234',
        'x-log-apiversion': '0.6.0',
        'User-Agent': 'logseal',
      },
    };
    const expected =
      'POST\n' +
      '5D41402ABC4B2A76B9719D911017C592\n' +
      'application/x-protobuf\n' +
      'Mon, 03 Nov 2025 08:00:00 GMT\n' +
      'x-log-apiversion:0.6.0\n' +
      'x-log-bodyrawsize:1234\n' +
      'x-log-compresstype:lz4\n' +
      'x-log-signaturemethod:hmac-sha1\n' +
      '/logstores/app/shards/lb';
    expect(stringToSign(req)).toBe(expected);
    expect(signatureV1(SECRET, req)).toBe(hmac(expected));
    expect(authorizationV1('AKID', SECRET, req)).toBe(`LOG AKID:${hmac(expected)}`);
  });

  it('GET with query parameters (sorted, not encoded) and an STS token; empty MD5 and type lines stay', () => {
    const req = {
      method: 'get',
      path: '/logstores/app/shards/0',
      query: { type: 'logs', cursor: 'MTQ0NzI5OTYwNjg5NjYzMjM1Ng==', count: '10' },
      headers: {
        Date: 'Mon, 03 Nov 2025 08:00:00 GMT',
        'X-Log-ApiVersion': '0.6.0',
        'x-log-signaturemethod': 'hmac-sha1',
        'x-acs-security-token': 'CAIS-sts-token',
        Accept: 'application/x-protobuf',
      },
    };
    const expected =
      'GET\n' +
      '\n' +
      '\n' +
      'Mon, 03 Nov 2025 08:00:00 GMT\n' +
      'x-acs-security-token:CAIS-sts-token\n' +
      'x-log-apiversion:0.6.0\n' +
      'x-log-signaturemethod:hmac-sha1\n' +
      '/logstores/app/shards/0?count=10&cursor=MTQ0NzI5OTYwNjg5NjYzMjM1Ng==&type=logs';
    expect(stringToSign(req)).toBe(expected);
    expect(signatureV1(SECRET, req)).toBe(hmac(expected));
    expect(canonicalResource('/logstores', {})).toBe('/logstores');
  });

  it('a different secret gives a different signature', () => {
    const req = { method: 'GET', path: '/logstores', headers: { Date: 'x' } };
    expect(signatureV1(SECRET, req)).not.toBe(signatureV1(`${SECRET}x`, req));
  });
});

describe('signedHeaders builds what PROTOCOLS.md lists and signs exactly that', () => {
  const date = new Date(Date.UTC(2025, 10, 3, 8, 0, 0));

  it('a PutLogs request with an STS token', () => {
    const body = Buffer.from('hello');
    const headers = signedHeaders({
      method: 'POST',
      path: '/logstores/app/shards/route',
      query: { key: '0123456789abcdef0123456789abcdef' },
      body,
      contentType: 'application/x-protobuf',
      headers: { 'x-log-bodyrawsize': '42', 'x-log-compresstype': 'lz4' },
      host: 'proj.127.0.0.1:8080',
      credentials: { accessKeyId: 'AKID', accessKeySecret: SECRET, securityToken: 'CAIS-token' },
      date,
    });
    expect(contentMd5(body)).toBe('5D41402ABC4B2A76B9719D911017C592'); // md5("hello"), uppercase hex
    expect(headers).toMatchObject({
      Host: 'proj.127.0.0.1:8080',
      Date: 'Mon, 03 Nov 2025 08:00:00 GMT',
      'Content-Type': 'application/x-protobuf',
      'Content-MD5': '5D41402ABC4B2A76B9719D911017C592',
      'Content-Length': '5',
      'x-log-apiversion': '0.6.0',
      'x-log-signaturemethod': 'hmac-sha1',
      'x-log-bodyrawsize': '42',
      'x-log-compresstype': 'lz4',
      'x-acs-security-token': 'CAIS-token',
    });
    const expected =
      'POST\n5D41402ABC4B2A76B9719D911017C592\napplication/x-protobuf\nMon, 03 Nov 2025 08:00:00 GMT\n' +
      'x-acs-security-token:CAIS-token\nx-log-apiversion:0.6.0\nx-log-bodyrawsize:42\nx-log-compresstype:lz4\nx-log-signaturemethod:hmac-sha1\n' +
      '/logstores/app/shards/route?key=0123456789abcdef0123456789abcdef';
    expect(headers.Authorization).toBe(`LOG AKID:${hmac(expected)}`);
  });

  it('a GET has no Content-MD5, Content-Type or body length', () => {
    const headers = signedHeaders({
      method: 'GET',
      path: '/logstores/app',
      host: 'proj.example.com',
      credentials: { accessKeyId: 'AKID', accessKeySecret: SECRET },
      date,
    });
    expect(Object.keys(headers).map((k) => k.toLowerCase())).not.toEqual(
      expect.arrayContaining(['content-md5']),
    );
    expect(headers['Content-Type']).toBeUndefined();
    expect(headers['x-acs-security-token']).toBeUndefined();
    const expected = 'GET\n\n\nMon, 03 Nov 2025 08:00:00 GMT\nx-log-apiversion:0.6.0\nx-log-signaturemethod:hmac-sha1\n/logstores/app';
    expect(headers.Authorization).toBe(`LOG AKID:${hmac(expected)}`);
  });
});
