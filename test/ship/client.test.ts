// SlsClient against a small recording HTTP server: request shape, signing, retries, timeouts, errors.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SlsClient, SlsError, preparePayload, type SlsClientOptions } from '../../agent/ship/index.js';
import { signatureV1 } from '../../agent/ship/signature.js';
import { decodeLogGroup, encodeLogGroup, encodeLogGroupList, type LogGroup } from '../../agent/wire/loggroup.js';
import { lz4Compress, lz4Decompress } from '../../agent/wire/lz4.js';

interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Reply = (req: Received, res: http.ServerResponse) => void;

const ID = 'test-akid';
const SECRET = 'test-secret-do-not-print';
const TOKEN = 'CAIS-sts-token-do-not-print';

let server: http.Server;
let port: number;
const received: Received[] = [];
let replies: Reply[] = [];
let fallback: Reply = (_req, res) => res.writeHead(200, { 'x-log-requestid': 'RID-OK' }).end();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const r: Received = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      received.push(r);
      (replies.shift() ?? fallback)(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(() => {
  received.length = 0;
  replies = [];
  fallback = (_req, res) => res.writeHead(200, { 'x-log-requestid': 'RID-OK' }).end();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const clients: SlsClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(o: Partial<SlsClientOptions> = {}): SlsClient {
  const c = new SlsClient({
    endpoint: `http://127.0.0.1:${port}`,
    project: 'proj',
    credentials: { accessKeyId: ID, accessKeySecret: SECRET },
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...o,
  });
  clients.push(c);
  return c;
}

function slsError(status: number, code: string, message: string, requestId = 'RID-ERR'): Reply {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-log-requestid': requestId });
    res.end(JSON.stringify({ errorCode: code, errorMessage: message }));
  };
}

function json(body: unknown): Reply {
  return (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'x-log-requestid': 'RID-J' }).end(JSON.stringify(body));
}

/** Recomputes the signature from what actually arrived: proves the client signs what it sends. */
function expectValidSignature(r: Received, secret = SECRET): void {
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
  const expected = signatureV1(secret, { method: r.method, path: r.path, query: r.query, headers });
  expect(r.headers.authorization).toBe(`LOG ${ID}:${expected}`);
}

const group: LogGroup = {
  logs: [
    { time: 1_700_000_000, timeNs: 42, contents: [{ key: 'content', value: 'GET /index.html 200' }] },
    { time: 1_700_000_001, contents: [{ key: 'content', value: new Uint8Array([0xff, 0x00, 0x41]) }] },
  ],
  topic: 'nginx',
  source: '10.0.0.1',
  logTags: [{ key: '__hostname__', value: 'web-1' }],
};

describe('PutLogs request shape', () => {
  it('sends the headers of PROTOCOLS.md, signed, with an lz4 body that decompresses to the group', async () => {
    const fixedNow = new Date(Date.UTC(2025, 10, 3, 8, 0, 0));
    const payload = preparePayload(encodeLogGroup(group), 'lz4');
    const result = await client({ now: () => fixedNow }).putLogs('app', payload);
    expect(result).toEqual({ requestId: 'RID-OK' });
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/logstores/app/shards/lb');
    expect(r.query).toEqual({});
    expect(r.headers.host).toBe(`proj.127.0.0.1:${port}`);
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(r.headers['x-log-apiversion']).toBe('0.6.0');
    expect(r.headers['x-log-signaturemethod']).toBe('hmac-sha1');
    expect(r.headers['x-log-compresstype']).toBe('lz4');
    expect(r.headers['x-log-bodyrawsize']).toBe(String(payload.rawSize));
    expect(r.headers['content-length']).toBe(String(r.body.length));
    expect(r.headers['content-md5']).toBe(createHash('md5').update(r.body).digest('hex').toUpperCase());
    expect(r.headers.date).toBe('Mon, 03 Nov 2025 08:00:00 GMT');
    expect(r.headers['x-acs-security-token']).toBeUndefined();
    expect(r.headers.authorization).toMatch(new RegExp(`^LOG ${ID}:[A-Za-z0-9+/]{27}=$`));
    expectValidSignature(r);
    expect(decodeLogGroup(lz4Decompress(r.body, Number(r.headers['x-log-bodyrawsize'])))).toEqual(group);
  });

  it('deflate and none', async () => {
    const encoded = encodeLogGroup(group);
    const c = client();
    await c.putLogs('app', preparePayload(encoded, 'deflate'));
    await c.putLogs('app', preparePayload(encoded, 'none'));
    const [deflated, raw] = received;
    expect(deflated!.headers['x-log-compresstype']).toBe('deflate');
    expect(decodeLogGroup(inflateSync(deflated!.body))).toEqual(group);
    expect(raw!.headers['x-log-compresstype']).toBeUndefined();
    expect(raw!.headers['x-log-bodyrawsize']).toBe(String(encoded.length));
    expect(decodeLogGroup(raw!.body)).toEqual(group);
    expectValidSignature(deflated!);
    expectValidSignature(raw!);
  });

  it('a hash key routes to /shards/route?key=…; a non-hex key is MD5-hashed first', async () => {
    const c = client();
    const payload = preparePayload(encodeLogGroup(group), 'lz4');
    await c.putLogs('app', payload, { hashKey: '0123456789ABCDEF0123456789abcdef' });
    await c.putLogs('app', payload, { hashKey: 'host-17' });
    expect(received[0]!.path).toBe('/logstores/app/shards/route');
    expect(received[0]!.query).toEqual({ key: '0123456789abcdef0123456789abcdef' });
    expect(received[1]!.query).toEqual({ key: createHash('md5').update('host-17').digest('hex') });
    expectValidSignature(received[0]!);
    expectValidSignature(received[1]!);
  });

  it('STS credentials from a function: x-acs-security-token is sent and signed', async () => {
    let asked = 0;
    const c = client({
      credentials: async () => {
        asked++;
        return { accessKeyId: ID, accessKeySecret: SECRET, securityToken: TOKEN };
      },
    });
    await c.putLogs('app', preparePayload(encodeLogGroup(group), 'lz4'));
    expect(asked).toBe(1);
    expect(received[0]!.headers['x-acs-security-token']).toBe(TOKEN);
    expectValidSignature(received[0]!);
  });

  it('several requests in flight at once', async () => {
    const held: http.ServerResponse[] = [];
    fallback = (_req, res) => {
      held.push(res);
      if (held.length === 4) for (const h of held) h.writeHead(200, { 'x-log-requestid': 'RID-OK' }).end();
    };
    const c = client({ maxSockets: 4 });
    const payload = preparePayload(encodeLogGroup(group), 'lz4');
    // Only succeeds if all four reach the server before any is answered.
    const results = await Promise.all([1, 2, 3, 4].map(() => c.putLogs('app', payload)));
    expect(results).toHaveLength(4);
  });
});

describe('PutLogs errors and retries', () => {
  const payload = preparePayload(encodeLogGroup(group), 'lz4');

  it('503 twice then 200: succeeds on the third attempt', async () => {
    replies = [slsError(503, 'ServerBusy', 'busy'), slsError(503, 'ServerBusy', 'busy')];
    const retries: [string, number][] = [];
    const c = client({ onRetry: (e, n) => retries.push([e.code, n]) });
    await expect(c.putLogs('app', payload)).resolves.toEqual({ requestId: 'RID-OK' });
    expect(received).toHaveLength(3);
    expect(retries).toEqual([
      ['ServerBusy', 1],
      ['ServerBusy', 2],
    ]);
    // every attempt is signed afresh and carries the same body
    for (const r of received) {
      expectValidSignature(r);
      expect(r.body).toEqual(Buffer.from(payload.body));
    }
  });

  it('quota errors are retried up to maxAttempts, then the last error is thrown, still retryable', async () => {
    fallback = slsError(403, 'WriteQuotaExceed', 'shard write quota exceed');
    const err = await client({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }).putLogs('app', payload).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlsError);
    expect(err).toMatchObject({ code: 'WriteQuotaExceed', status: 403, requestId: 'RID-ERR', retryable: true });
    expect(received).toHaveLength(3);
  });

  it('401 is not retried, and the message is one line without the secret or token', async () => {
    replies = [slsError(401, 'SignatureNotMatch', `signature mismatch;\nserver string to sign: ...x-acs-security-token:${TOKEN}... key ${SECRET}`)];
    const c = client({ credentials: { accessKeyId: ID, accessKeySecret: SECRET, securityToken: TOKEN } });
    const err = (await c.putLogs('app', payload).catch((e: unknown) => e)) as SlsError;
    expect(err).toMatchObject({ code: 'SignatureNotMatch', status: 401, retryable: false, requestId: 'RID-ERR' });
    expect(received).toHaveLength(1);
    expect(err.message).not.toContain('\n');
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).toMatch(/^PutLogs app: SignatureNotMatch \(HTTP 401, request RID-ERR\): signature mismatch;/);
  });

  it.each([
    [404, 'LogStoreNotExist'],
    [404, 'ProjectNotExist'],
    [400, 'InvalidCompressType'],
    [400, 'RequestTimeExpired'],
  ])('%i %s is not retried', async (status, code) => {
    replies = [slsError(status, code, 'no')];
    await expect(client().putLogs('app', payload)).rejects.toMatchObject({ code, status, retryable: false });
    expect(received).toHaveLength(1);
  });

  it('a non-JSON 502 from a proxy is retryable UnexpectedResponse', async () => {
    fallback = (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
    await expect(client({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }).putLogs('app', payload)).rejects.toMatchObject({
      code: 'UnexpectedResponse',
      status: 502,
      retryable: true,
    });
    expect(received).toHaveLength(2);
  });

  it('connection refused: a retryable NetworkError with status 0, after retrying', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let retries = 0;
    const c = client({ endpoint: `http://127.0.0.1:${deadPort}`, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, onRetry: () => retries++ });
    const err = (await c.putLogs('app', payload).catch((e: unknown) => e)) as SlsError;
    expect(err).toBeInstanceOf(SlsError);
    expect(err).toMatchObject({ code: 'NetworkError', status: 0, retryable: true });
    expect(err.message).toContain('ECONNREFUSED');
    expect(retries).toBe(2);
  });

  it('a server that never answers: RequestTimeout after timeoutMs, retryable', async () => {
    fallback = () => {
      // hold the response open; afterAll closes the connection
    };
    const started = Date.now();
    const c = client({ timeoutMs: 150, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    await expect(c.putLogs('app', payload)).rejects.toMatchObject({ code: 'RequestTimeout', status: 0, retryable: true });
    expect(received).toHaveLength(2);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('time spent queued for a socket does not count against timeoutMs', async () => {
    // One socket, four requests each answered after 150 ms: the last waits ~450 ms in the queue.
    fallback = (_req, res) => {
      setTimeout(() => res.writeHead(200, { 'x-log-requestid': 'RID-OK' }).end(), 150);
    };
    const c = client({ maxSockets: 1, timeoutMs: 400, retry: { maxAttempts: 1 } });
    const results = await Promise.all([1, 2, 3, 4].map(() => c.putLogs('app', payload)));
    expect(results).toHaveLength(4);
    expect(received).toHaveLength(4);
  });

  it('a response that stalls after its headers also times out', async () => {
    fallback = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    };
    await expect(client({ timeoutMs: 150, retry: { maxAttempts: 1 } }).putLogs('app', payload)).rejects.toMatchObject({ code: 'RequestTimeout' });
  });

  it('an abort signal stops an in-flight request', async () => {
    fallback = () => {};
    const controller = new AbortController();
    const pending = client().putLogs('app', payload, { signal: controller.signal });
    await waitFor(() => received.length === 1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'Aborted', status: 0 });
  });

  it('a failing credential source is a retryable CredentialsUnavailable', async () => {
    const c = client({
      retry: { maxAttempts: 1 },
      credentials: async () => {
        throw new Error('metadata service unreachable');
      },
    });
    await expect(c.putLogs('app', payload)).rejects.toMatchObject({ code: 'CredentialsUnavailable', retryable: true });
    expect(received).toHaveLength(0);
  });

  it('a closed client refuses calls', async () => {
    const c = client();
    await c.close();
    await expect(c.putLogs('app', payload)).rejects.toMatchObject({ code: 'ClientClosed', retryable: false });
  });
});

describe('Logstore administration and reading', () => {
  it('createLogstore POSTs signed JSON with Content-MD5', async () => {
    const spec = {
      logstoreName: 'app',
      ttl: 30,
      shardCount: 2,
      encrypt_conf: { enable: true, encrypt_type: 'm4' as const },
    };
    await client().createLogstore(spec);
    const r = received[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/logstores');
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body.toString())).toEqual(spec);
    expect(r.headers['content-md5']).toBe(createHash('md5').update(r.body).digest('hex').toUpperCase());
    expectValidSignature(r);
  });

  it('getLogstore: a GET without MD5 or Content-Type; extra fields in the answer are dropped', async () => {
    replies = [json({ logstoreName: 'app', ttl: 30, shardCount: 2, autoSplit: true, createTime: 1, encrypt_conf: { enable: true, encrypt_type: 'default' } })];
    await expect(client().getLogstore('app')).resolves.toEqual({
      logstoreName: 'app',
      ttl: 30,
      shardCount: 2,
      encrypt_conf: { enable: true, encrypt_type: 'default' },
    });
    const r = received[0]!;
    expect(r.method).toBe('GET');
    expect(r.path).toBe('/logstores/app');
    expect(r.headers['content-md5']).toBeUndefined();
    expect(r.headers['content-type']).toBeUndefined();
    expectValidSignature(r);
  });

  it('updateLogstore PUTs, deleteLogstore DELETEs, listShards maps the shard list', async () => {
    const c = client();
    await c.updateLogstore({ logstoreName: 'app', ttl: 7, shardCount: 2, encrypt_conf: { enable: false, encrypt_type: 'default' } });
    await c.deleteLogstore('app');
    replies = [json([{ shardID: 0, status: 'readwrite', inclusiveBeginKey: '00' }, { shardID: 1, status: 'readonly' }])];
    await expect(c.listShards('app')).resolves.toEqual([
      { shardID: 0, status: 'readwrite' },
      { shardID: 1, status: 'readonly' },
    ]);
    expect(received.map((r) => `${r.method} ${r.path}`)).toEqual(['PUT /logstores/app', 'DELETE /logstores/app', 'GET /logstores/app/shards']);
    expect(JSON.parse(received[0]!.body.toString()).encrypt_conf).toEqual({ enable: false, encrypt_type: 'default' });
    received.forEach((r) => expectValidSignature(r));
  });

  it('a failed create is not retried', async () => {
    fallback = slsError(500, 'InternalServerError', 'oops');
    await expect(client().createLogstore({ logstoreName: 'app', ttl: 1, shardCount: 1 })).rejects.toMatchObject({ code: 'InternalServerError' });
    expect(received).toHaveLength(1);
  });

  it('getCursor sends type=cursor&from=…, signed over the unencoded query', async () => {
    replies = [json({ cursor: 'MTY5OTk5OTk5OQ==' }), json({ cursor: 'X' })];
    const c = client();
    await expect(c.getCursor('app', 1, 'begin')).resolves.toBe('MTY5OTk5OTk5OQ==');
    await expect(c.getCursor('app', 1, 1_700_000_000.7)).resolves.toBe('X');
    expect(received[0]!.path).toBe('/logstores/app/shards/1');
    expect(received[0]!.query).toEqual({ type: 'cursor', from: 'begin' });
    expect(received[1]!.query).toEqual({ type: 'cursor', from: '1700000000' });
    expectValidSignature(received[0]!);
  });

  it('pullLogs decodes an lz4 LogGroupList; a cursor with + / = survives URL encoding', async () => {
    const list = encodeLogGroupList([group, { logs: [], logTags: [] }]);
    replies = [
      (_req, res) =>
        res
          .writeHead(200, {
            'x-log-cursor': 'next+/=',
            'x-log-count': '2',
            'x-log-bodyrawsize': String(list.length),
            'x-log-compresstype': 'lz4',
            'x-log-requestid': 'RID-P',
          })
          .end(lz4Compress(list)),
    ];
    const out = await client().pullLogs('app', 0, 'a+b/c==', 10, 'end+/=');
    expect(out).toEqual({ groups: [group, { logs: [], logTags: [] }], nextCursor: 'next+/=', count: 2 });
    const r = received[0]!;
    expect(r.query).toEqual({ type: 'logs', cursor: 'a+b/c==', count: '10', end_cursor: 'end+/=' });
    expect(r.headers.accept).toBe('application/x-protobuf');
    expect(r.headers['accept-encoding']).toBe('lz4');
    expectValidSignature(r);
  });

  it('pullLogs: a corrupt body is InvalidResponse, not a crash', async () => {
    replies = [(_req, res) => res.writeHead(200, { 'x-log-cursor': 'c', 'x-log-bodyrawsize': '100', 'x-log-compresstype': 'lz4' }).end(Buffer.from([1, 2, 3]))];
    await expect(client().pullLogs('app', 0, 'c', 1)).rejects.toMatchObject({ code: 'InvalidResponse', retryable: false });
  });

  it('reads are retried on 5xx', async () => {
    replies = [slsError(500, 'InternalServerError', 'x'), json({ cursor: 'C' })];
    await expect(client().getCursor('app', 0, 'end')).resolves.toBe('C');
    expect(received).toHaveLength(2);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}
