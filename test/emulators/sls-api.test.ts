// The SLS emulator's wire protocol over real HTTP: PutLogs/GetCursor/PullLogs, signatures, body checks, logstores, encrypt_conf.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationV1 } from '../../agent/ship/signature.js';
import { encodeLogGroup, decodeLogGroupList, type LogGroup } from '../../agent/wire/loggroup.js';
import { lz4Compress, lz4Decompress } from '../../agent/wire/lz4.js';
import { zstdCompress } from '../../agent/wire/zstd.js';
import { putLogGroup, readShard, signedRequest, type SignedRequestOptions, type SlsResponse, type SlsTarget } from '../../emulators/sls/client.js';
import { startSlsEmulator, type SlsEmulator } from '../../emulators/sls/index.js';

const ID = 'test-key-id';
const SECRET = 'test-key-secret';
const PROJECT = 'proj-api';

let dir: string;
let emu: SlsEmulator;
const agent = new Agent({ keepAlive: true });
let target: SlsTarget;

type Call = Omit<SignedRequestOptions, 'url' | 'accessKeyId' | 'accessKeySecret'> & Partial<SignedRequestOptions>;

function call(o: Call): Promise<SlsResponse> {
  return signedRequest({ url: emu.url, project: PROJECT, accessKeyId: ID, accessKeySecret: SECRET, agent, ...o });
}

function json(res: SlsResponse): any {
  return JSON.parse(res.body.toString('utf8'));
}

function expectError(res: SlsResponse, status: number, code: string): void {
  expect({ status: res.status, code: res.body.length ? json(res).errorCode : undefined }).toEqual({ status, code });
  expect(typeof json(res).errorMessage).toBe('string');
  expect(res.headers['x-log-requestid']).toMatch(/^[0-9A-F]{24}$/);
}

function createLogstore(name: string, extra: Record<string, unknown> = {}): Promise<SlsResponse> {
  const body = Buffer.from(JSON.stringify({ logstoreName: name, ttl: 7, shardCount: 2, ...extra }));
  return call({ method: 'POST', path: '/logstores', body, headers: { 'content-type': 'application/json' } });
}

function group(tag: string, logs = 1): LogGroup {
  return {
    topic: 'topic-a',
    source: '10.0.0.1',
    logTags: [{ key: '__tag__', value: tag }],
    logs: Array.from({ length: logs }, (_, i) => ({
      time: 1_700_000_000 + i,
      timeNs: 5,
      contents: [
        { key: 'msg', value: `${tag}-${i}` },
        { key: 'level', value: 'info' },
      ],
    })),
  };
}

/** PutLogs with full control over body and headers; defaults to a valid lz4 request. */
function putRaw(logstore: string, o: { body?: Buffer; headers?: Record<string, string | null>; query?: Record<string, string>; mode?: string } = {}) {
  const raw = Buffer.from(encodeLogGroup(group('raw')));
  return call({
    method: 'POST',
    path: `/logstores/${logstore}/shards/${o.mode ?? 'lb'}`,
    query: o.query,
    body: o.body ?? lz4Compress(raw),
    headers: {
      'content-type': 'application/x-protobuf',
      'x-log-compresstype': 'lz4',
      'x-log-bodyrawsize': String(raw.length),
      ...o.headers,
    },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sls-api-'));
  emu = await startSlsEmulator({ dataDir: dir, accessKeyId: ID, accessKeySecret: SECRET });
  target = { url: emu.url, project: PROJECT, accessKeyId: ID, accessKeySecret: SECRET, agent };
  expect((await createLogstore('app')).status).toBe(200);
});

afterAll(async () => {
  agent.destroy();
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

describe('PutLogs, GetCursor and PullLogs', () => {
  it('returns exactly the LogGroups that were put, in order, per shard', async () => {
    expect((await createLogstore('roundtrip')).status).toBe(200);
    const sent = [group('a', 3), group('b', 1), group('c', 10)];
    for (const g of sent) await putLogGroup(target, 'roundtrip', g, '00000000000000000000000000000001');
    expect(await readShard(target, 'roundtrip', 0)).toEqual(sent);
    expect(await readShard(target, 'roundtrip', 1)).toEqual([]);
  });

  it('routes by hash key and spreads lb writes round-robin', async () => {
    expect((await createLogstore('routing')).status).toBe(200);
    await putLogGroup(target, 'routing', group('high'), 'ffffffffffffffffffffffffffffffff');
    await putLogGroup(target, 'routing', group('low'), '7fffffffffffffffffffffffffffffff');
    for (let i = 0; i < 4; i++) await putLogGroup(target, 'routing', group(`lb${i}`));
    const s0 = await readShard(target, 'routing', 0);
    const s1 = await readShard(target, 'routing', 1);
    expect(s0[0]!.logTags[0]!.value).toBe('low');
    expect(s1[0]!.logTags[0]!.value).toBe('high');
    expect(s0.length).toBe(3);
    expect(s1.length).toBe(3);
    expectError(await putRaw('routing', { mode: 'route', query: { key: 'not-a-hash' } }), 400, 'ParameterInvalid');
  });

  it('honours count, end_cursor and from=<unix seconds>, and answers the documented headers', async () => {
    expect((await createLogstore('paging')).status).toBe(200);
    for (let i = 0; i < 5; i++) await putLogGroup(target, 'paging', group(`p${i}`), '00000000000000000000000000000000');
    const path = '/logstores/paging/shards/0';
    const cursorOf = async (from: string) => json(await call({ method: 'GET', path, query: { type: 'cursor', from } })).cursor as string;
    const begin = await cursorOf('begin');
    const end = await cursorOf('end');
    expect(await cursorOf('0')).toBe(begin);
    expect(await cursorOf(String(Math.floor(Date.now() / 1000) + 3600))).toBe(end);

    const first = await call({ method: 'GET', path, query: { type: 'logs', cursor: begin, count: '2' } });
    expect(first.status).toBe(200);
    expect(first.headers['x-log-count']).toBe('2');
    expect(first.headers['x-log-compresstype']).toBe('lz4');
    const list = decodeLogGroupList(lz4Decompress(first.body, Number(first.headers['x-log-bodyrawsize'])));
    expect(list.map((g) => g.logTags[0]!.value)).toEqual(['p0', 'p1']);

    const next = String(first.headers['x-log-cursor']);
    const bounded = await call({ method: 'GET', path, query: { type: 'logs', cursor: next, count: '100', end_cursor: next } });
    expect(bounded.headers['x-log-count']).toBe('0');
    const rest = await call({ method: 'GET', path, query: { type: 'logs', cursor: next, count: '100' } });
    expect(rest.headers['x-log-count']).toBe('3');
    expect(rest.headers['x-log-cursor']).toBe(end);

    expectError(await call({ method: 'GET', path, query: { type: 'logs', cursor: 'bm9wZQ==', count: '1' } }), 400, 'InvalidCursor');
    expectError(await call({ method: 'GET', path, query: { type: 'logs', cursor: begin, count: '1001' } }), 400, 'ParameterInvalid');
    expectError(await call({ method: 'GET', path: '/logstores/paging/shards/7', query: { type: 'cursor', from: 'begin' } }), 404, 'ShardNotExist');
  });

  it('accepts deflate, zstd and uncompressed bodies', async () => {
    const raw = Buffer.from(encodeLogGroup(group('deflate')));
    const size = String(raw.length);
    expect((await putRaw('app', { body: deflateSync(raw), headers: { 'x-log-compresstype': 'deflate', 'x-log-bodyrawsize': size } })).status).toBe(200);
    expect((await putRaw('app', { body: zstdCompress(raw), headers: { 'x-log-compresstype': 'zstd', 'x-log-bodyrawsize': size } })).status).toBe(200);
    expectError(await putRaw('app', { body: zstdCompress(raw), headers: { 'x-log-compresstype': 'zstd', 'x-log-bodyrawsize': '3' } }), 400, 'InvalidBodyRawSize');
    expectError(await putRaw('app', { body: raw, headers: { 'x-log-compresstype': 'zstd', 'x-log-bodyrawsize': size } }), 400, 'PostBodyUncompressError');
    expect((await putRaw('app', { body: raw, headers: { 'x-log-compresstype': null, 'x-log-bodyrawsize': size } })).status).toBe(200);
    expect((await putRaw('app', { body: raw, headers: { 'x-log-compresstype': null, 'x-log-bodyrawsize': null } })).status).toBe(200);
  });

  it('answers 200 with an empty body and a request id', async () => {
    const res = await putRaw('app');
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(res.headers['x-log-requestid']).toMatch(/^[0-9A-F]{24}$/);
  });
});

describe('authentication', () => {
  it('refuses a wrong secret with 401 SignatureNotMatch and an unknown key id with 401 Unauthorized', async () => {
    expectError(await call({ method: 'GET', path: '/logstores/app', accessKeySecret: 'wrong' }), 401, 'SignatureNotMatch');
    expectError(await call({ method: 'GET', path: '/logstores/app', accessKeyId: 'someone-else' }), 401, 'Unauthorized');
  });

  it('signs the sorted query string into the canonical resource', async () => {
    const path = '/logstores/app/shards/0';
    const headers: Record<string, string> = {
      host: `${PROJECT}.${new URL(emu.url).host}`,
      date: new Date().toUTCString(),
      'x-log-apiversion': '0.6.0',
      'x-log-signaturemethod': 'hmac-sha1',
    };
    const send = (signedQuery: Record<string, string>, sentQuery: string) =>
      new Promise<number>((resolve, reject) => {
        const h = { ...headers, authorization: authorizationV1(ID, SECRET, { method: 'GET', path, query: signedQuery, headers }) };
        const req = request({ hostname: '127.0.0.1', port: emu.port, path: `${path}?${sentQuery}`, headers: h, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    // Parameter order on the wire does not matter: both sides sort.
    expect(await send({ type: 'cursor', from: 'begin' }, 'from=begin&type=cursor')).toBe(200);
    expect(await send({ type: 'cursor', from: 'begin' }, 'type=cursor&from=end')).toBe(401);
  });

  it('refuses a Date more than 15 minutes off and malformed or missing common headers', async () => {
    const stale = new Date(Date.now() - 16 * 60 * 1000);
    expectError(await call({ method: 'GET', path: '/logstores/app', date: stale }), 400, 'RequestTimeExpired');
    expect((await call({ method: 'GET', path: '/logstores/app', date: new Date(Date.now() - 14 * 60 * 1000) })).status).toBe(200);
    expectError(await call({ method: 'GET', path: '/logstores/app', headers: { date: '2024-01-01T00:00:00Z' } }), 400, 'InvalidDateFormat');
    expectError(await call({ method: 'GET', path: '/logstores/app', headers: { date: null } }), 400, 'MissingDate');
    expectError(await call({ method: 'GET', path: '/logstores/app', headers: { 'x-log-apiversion': null } }), 400, 'MissingAPIVersion');
    expectError(await call({ method: 'GET', path: '/logstores/app', headers: { 'x-log-apiversion': '0.5.0' } }), 400, 'InvalidAPIVersion');
    expectError(await call({ method: 'GET', path: '/logstores/app', headers: { 'x-log-signaturemethod': null } }), 400, 'MissingSignatureMethod');
    expectError(await call({ method: 'GET', path: '/logstores/app', project: undefined }), 400, 'InvalidHost');
  });

  it('covers the STS token with the signature', async () => {
    expect((await call({ method: 'GET', path: '/logstores/app', securityToken: 'sts-token-1' })).status).toBe(200);
    const unsigned = await call({ method: 'GET', path: '/logstores/app', unsignedHeaders: { 'x-acs-security-token': 'sts-token-1' } });
    expectError(unsigned, 401, 'SignatureNotMatch');
  });
});

describe('PutLogs body checks', () => {
  it('refuses a Content-MD5 that does not match the body', async () => {
    expectError(await putRaw('app', { headers: { 'content-md5': 'D41D8CD98F00B204E9800998ECF8427E' } }), 400, 'InvalidContentMD5');
    const body = lz4Compress(encodeLogGroup(group('x')));
    const lower = createHash('md5').update(body).digest('hex');
    expectError(await putRaw('app', { body, headers: { 'content-md5': lower, 'x-log-bodyrawsize': String(encodeLogGroup(group('x')).length) } }), 400, 'InvalidContentMD5');
    expectError(await putRaw('app', { headers: { 'content-md5': null } }), 400, 'InvalidContentMD5');
  });

  it('refuses unknown compress types, wrong raw sizes and undecodable bodies', async () => {
    const raw = Buffer.from(encodeLogGroup(group('sizes')));
    expectError(await putRaw('app', { headers: { 'x-log-compresstype': 'gzip' } }), 400, 'InvalidCompressType');
    expectError(await putRaw('app', { headers: { 'x-log-bodyrawsize': String(raw.length + 5) } }), 400, 'InvalidBodyRawSize');
    expectError(await putRaw('app', { headers: { 'x-log-bodyrawsize': String(raw.length - 5) } }), 400, 'InvalidBodyRawSize');
    expectError(await putRaw('app', { headers: { 'x-log-bodyrawsize': 'ten' } }), 400, 'InvalidBodyRawSize');
    expectError(await putRaw('app', { headers: { 'x-log-bodyrawsize': null } }), 400, 'MissingBodyRawSize');
    expectError(await putRaw('app', { body: deflateSync(raw), headers: { 'x-log-compresstype': 'deflate', 'x-log-bodyrawsize': '3' } }), 400, 'InvalidBodyRawSize');
    expectError(await putRaw('app', { body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]) }), 400, 'PostBodyUncompressError');
    const garbage = Buffer.from([0x0a, 0x05, 0x08]);
    expectError(await putRaw('app', { body: garbage, headers: { 'x-log-compresstype': null, 'x-log-bodyrawsize': null } }), 400, 'PostBodyInvalid');
    expectError(await putRaw('app', { headers: { 'content-type': 'application/json' } }), 415, 'InvalidContentType');
  });

  it('refuses more than 10 MB raw and more than 4096 logs with PostBodyTooLarge', async () => {
    const tooBig = Buffer.alloc(10 * 1024 * 1024 + 1);
    expectError(await putRaw('app', { body: lz4Compress(tooBig), headers: { 'x-log-bodyrawsize': String(tooBig.length) } }), 400, 'PostBodyTooLarge');
    expectError(await putRaw('app', { body: tooBig, headers: { 'x-log-compresstype': null, 'x-log-bodyrawsize': null } }), 400, 'PostBodyTooLarge');

    const many = Buffer.from(encodeLogGroup(group('many', 4097)));
    expectError(await putRaw('app', { body: lz4Compress(many), headers: { 'x-log-bodyrawsize': String(many.length) } }), 400, 'PostBodyTooLarge');
    const limit = Buffer.from(encodeLogGroup(group('limit', 4096)));
    expect((await putRaw('app', { body: lz4Compress(limit), headers: { 'x-log-bodyrawsize': String(limit.length) } })).status).toBe(200);
  });

  it('refuses writes to a logstore that does not exist', async () => {
    expectError(await putRaw('missing-store'), 404, 'LogStoreNotExist');
  });
});

describe('logstores', () => {
  it('creates, describes, lists shards and deletes', async () => {
    expect((await createLogstore('life-cycle', { shardCount: 4 })).status).toBe(200);
    expectError(await createLogstore('life-cycle'), 400, 'LogStoreAlreadyExist');
    const got = json(await call({ method: 'GET', path: '/logstores/life-cycle' }));
    expect(got).toMatchObject({ logstoreName: 'life-cycle', ttl: 7, shardCount: 4 });
    const shards = json(await call({ method: 'GET', path: '/logstores/life-cycle/shards' }));
    expect(shards).toHaveLength(4);
    expect(shards[0]).toMatchObject({ shardID: 0, status: 'readwrite', inclusiveBeginKey: '0'.repeat(32), exclusiveEndKey: `4${'0'.repeat(31)}` });
    expect(shards[3].exclusiveEndKey).toBe('f'.repeat(32));
    expect(typeof shards[0].createTime).toBe('number');
    expect(json(await call({ method: 'GET', path: '/logstores' })).logstores).toContain('life-cycle');

    expect((await call({ method: 'DELETE', path: '/logstores/life-cycle' })).status).toBe(200);
    expectError(await call({ method: 'GET', path: '/logstores/life-cycle' }), 404, 'LogStoreNotExist');
    expect((await createLogstore('life-cycle')).status).toBe(200);
  });

  it('applies the naming rules and value ranges', async () => {
    for (const bad of ['ab', 'Upper', '-lead', 'trail_', 'has.dot', 'x'.repeat(64)]) {
      expectError(await createLogstore(bad), 400, 'ParameterInvalid');
    }
    expectError(await createLogstore('zero-shards', { shardCount: 0 }), 400, 'ParameterInvalid');
    expectError(await createLogstore('no-ttl', { ttl: undefined }), 400, 'ParameterInvalid');
    const notJson = await call({ method: 'POST', path: '/logstores', body: Buffer.from('{'), headers: { 'content-type': 'application/json' } });
    expectError(notJson, 400, 'PostBodyInvalid');
  });
});

describe('encrypt_conf', () => {
  const cmk = { cmk_key_id: 'key-1', arn: 'acs:ram::1234567890:role/aliyunlogdefaultrole', region_id: 'cn-hangzhou' };

  it('accepts only encrypt_type default or m4 and a complete user_cmk_info', async () => {
    expectError(await createLogstore('enc-bad-type', { encrypt_conf: { enable: true, encrypt_type: 'aes' } }), 400, 'ParameterInvalid');
    expectError(await createLogstore('enc-no-type', { encrypt_conf: { enable: true } }), 400, 'ParameterInvalid');
    const noArn = { cmk_key_id: 'key-1', region_id: 'cn-hangzhou' };
    expectError(await createLogstore('enc-no-arn', { encrypt_conf: { enable: true, encrypt_type: 'default', user_cmk_info: noArn } }), 400, 'ParameterInvalid');
    const badArn = { ...cmk, arn: 'arn:aws:iam::1:role/x' };
    expectError(await createLogstore('enc-bad-arn', { encrypt_conf: { enable: true, encrypt_type: 'default', user_cmk_info: badArn } }), 400, 'ParameterInvalid');
    // No atRestKms was given to this emulator, so BYOK cannot be honoured.
    const byok = await createLogstore('enc-byok', { encrypt_conf: { enable: true, encrypt_type: 'default', user_cmk_info: cmk } });
    expectError(byok, 400, 'ParameterInvalid');
    expect(json(byok).errorMessage).toMatch(/atRestKms/);
    expect((await createLogstore('enc-m4', { encrypt_conf: { enable: true, encrypt_type: 'm4' } })).status).toBe(200);
  });

  it('lets an update change only enable, and requires the whole encrypt_conf every time', async () => {
    const conf = { enable: true, encrypt_type: 'default' };
    expect((await createLogstore('enc-upd', { encrypt_conf: conf })).status).toBe(200);
    const update = (body: Record<string, unknown>) =>
      call({
        method: 'PUT',
        path: '/logstores/enc-upd',
        body: Buffer.from(JSON.stringify({ logstoreName: 'enc-upd', ttl: 7, shardCount: 2, ...body })),
        headers: { 'content-type': 'application/json' },
      });
    expectError(await update({}), 400, 'ParameterInvalid');
    expectError(await update({ encrypt_conf: { enable: true, encrypt_type: 'm4' } }), 400, 'ParameterInvalid');
    expectError(await update({ encrypt_conf: { ...conf, user_cmk_info: cmk } }), 400, 'ParameterInvalid');
    expectError(await update({ encrypt_conf: { encrypt_type: 'default' } }), 400, 'ParameterInvalid');
    expect((await update({ ttl: 30, encrypt_conf: { enable: false, encrypt_type: 'default' } })).status).toBe(200);
    const got = json(await call({ method: 'GET', path: '/logstores/enc-upd' }));
    expect(got.ttl).toBe(30);
    expect(got.encrypt_conf).toEqual({ enable: false, encrypt_type: 'default' });
  });
});
