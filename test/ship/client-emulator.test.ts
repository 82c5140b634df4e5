// SlsClient against the local SLS emulator over real HTTP: PutLogs → GetCursor/PullLogs, logstore CRUD, errors.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlsEmulator, type SlsEmulator } from '../../emulators/sls/index.js';
import { SlsClient, SlsError, preparePayload, type CompressType, type SlsClientOptions } from '../../agent/ship/index.js';
import { encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';

const CREDS = { accessKeyId: 'emu-akid', accessKeySecret: 'emu-secret' };
const PROJECT = 'logseal-test';

let dataDir: string;
let emulator: SlsEmulator;
const clients: SlsClient[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'logseal-ship-emu-'));
  emulator = await startSlsEmulator({ dataDir, port: 0, ...CREDS });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await emulator?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function client(o: Partial<SlsClientOptions> = {}): SlsClient {
  const c = new SlsClient({ endpoint: emulator.url, project: PROJECT, credentials: CREDS, retry: { baseDelayMs: 1, maxDelayMs: 5 }, ...o });
  clients.push(c);
  return c;
}

function makeGroup(n: number, tag: string): LogGroup {
  return {
    logs: Array.from({ length: n }, (_, i) => ({
      time: 1_700_000_000 + i,
      ...(i % 2 ? { timeNs: i * 1000 } : {}),
      contents: [
        { key: 'content', value: `${tag} line ${i}: GET /api/v1/items/${i} 200 ${'x'.repeat(i % 50)}` },
        { key: 'level', value: i % 3 ? 'info' : 'warn' },
      ],
    })),
    topic: 'app',
    source: '10.0.0.7',
    logTags: [
      { key: '__hostname__', value: 'web-7' },
      { key: 'batch', value: tag },
    ],
  };
}

/** Every LogGroup of a shard, from the beginning, in pages of `page`. */
async function pullAll(c: SlsClient, logstore: string, shard: number, page = 2): Promise<LogGroup[]> {
  const end = await c.getCursor(logstore, shard, 'end');
  let cursor = await c.getCursor(logstore, shard, 'begin');
  const groups: LogGroup[] = [];
  for (let guard = 0; cursor !== end; guard++) {
    if (guard > 1000) throw new Error('PullLogs does not advance');
    const out = await c.pullLogs(logstore, shard, cursor, page);
    expect(out.count).toBe(out.groups.length);
    groups.push(...out.groups);
    cursor = out.nextCursor;
  }
  return groups;
}

describe('SlsClient ↔ SLS emulator', () => {
  it('logstore CRUD: create, get, list shards, update, delete', async () => {
    const c = client();
    await c.createLogstore({ logstoreName: 'crud-store', ttl: 7, shardCount: 3 });
    await expect(c.getLogstore('crud-store')).resolves.toMatchObject({ logstoreName: 'crud-store', ttl: 7, shardCount: 3 });
    const shards = await c.listShards('crud-store');
    expect(shards.map((s) => s.shardID)).toEqual([0, 1, 2]);
    expect(shards.every((s) => s.status === 'readwrite')).toBe(true);
    await c.updateLogstore({ logstoreName: 'crud-store', ttl: 30, shardCount: 3 });
    expect((await c.getLogstore('crud-store')).ttl).toBe(30);
    await expect(c.createLogstore({ logstoreName: 'crud-store', ttl: 7, shardCount: 1 })).rejects.toMatchObject({ code: 'LogStoreAlreadyExist' });
    await c.deleteLogstore('crud-store');
    await expect(c.getLogstore('crud-store')).rejects.toMatchObject({ code: 'LogStoreNotExist', status: 404, retryable: false });
  });

  it('encrypt_conf is accepted at create and reported back', async () => {
    const c = client();
    const encrypt_conf = { enable: true, encrypt_type: 'm4' as const };
    await c.createLogstore({ logstoreName: 'sealed-store', ttl: 1, shardCount: 1, encrypt_conf });
    expect((await c.getLogstore('sealed-store')).encrypt_conf).toEqual(encrypt_conf);
  });

  it('PutLogs with lz4, deflate, zstd and none, then PullLogs returns identical groups in order', async () => {
    const c = client();
    await c.createLogstore({ logstoreName: 'roundtrip', ttl: 1, shardCount: 1 });
    const sent: LogGroup[] = [];
    const types: CompressType[] = ['lz4', 'deflate', 'none', 'zstd', 'lz4'];
    for (const [i, type] of types.entries()) {
      const g = makeGroup(20 + i * 37, `batch-${i}`);
      sent.push(g);
      const { requestId } = await c.putLogs('roundtrip', preparePayload(encodeLogGroup(g), type));
      expect(requestId).not.toBe('');
    }
    // a raw, non-UTF-8 value survives the trip byte for byte
    const raw: LogGroup = { logs: [{ time: 1_700_000_100, contents: [{ key: 'content', value: new Uint8Array([0xc3, 0x28, 0xff, 0x0a]) }] }], logTags: [] };
    sent.push(raw);
    await c.putLogs('roundtrip', preparePayload(encodeLogGroup(raw), 'lz4'));
    expect(await pullAll(c, 'roundtrip', 0)).toEqual(sent);
  });

  it('PullLogs stops at an end cursor', async () => {
    const c = client();
    await c.createLogstore({ logstoreName: 'bounded', ttl: 1, shardCount: 1 });
    const groups = [makeGroup(3, 'a'), makeGroup(4, 'b'), makeGroup(5, 'c')];
    for (const g of groups) await c.putLogs('bounded', preparePayload(encodeLogGroup(g), 'lz4'));
    const begin = await c.getCursor('bounded', 0, 'begin');
    const first = await c.pullLogs('bounded', 0, begin, 1);
    const out = await c.pullLogs('bounded', 0, begin, 100, first.nextCursor);
    expect(out.groups).toEqual([groups[0]]);
    expect(out.nextCursor).toBe(first.nextCursor);
  });

  it('hash keys route to the shard whose range holds them', async () => {
    const c = client();
    await c.createLogstore({ logstoreName: 'routed', ttl: 1, shardCount: 2 });
    const low = makeGroup(2, 'low');
    const high = makeGroup(2, 'high');
    await c.putLogs('routed', preparePayload(encodeLogGroup(low), 'lz4'), { hashKey: '00000000000000000000000000000001' });
    await c.putLogs('routed', preparePayload(encodeLogGroup(high), 'lz4'), { hashKey: 'ffffffffffffffffffffffffffffff00' });
    expect(await pullAll(c, 'routed', 0)).toEqual([low]);
    expect(await pullAll(c, 'routed', 1)).toEqual([high]);
  });

  it('many PutLogs in flight on keep-alive sockets all land', async () => {
    const c = client({ maxSockets: 8 });
    await c.createLogstore({ logstoreName: 'parallel', ttl: 1, shardCount: 2 });
    const groups = Array.from({ length: 40 }, (_, i) => makeGroup(10, `p${i}`));
    await Promise.all(groups.map((g) => c.putLogs('parallel', preparePayload(encodeLogGroup(g), 'lz4'))));
    const landed = [...(await pullAll(c, 'parallel', 0, 50)), ...(await pullAll(c, 'parallel', 1, 50))];
    const tagOf = (g: LogGroup): string => g.logTags[1]!.value;
    expect(landed.map(tagOf).sort()).toEqual(groups.map(tagOf).sort());
  });

  it('errors the real service gives: unknown logstore, wrong secret, stale clock', async () => {
    const payload = preparePayload(encodeLogGroup(makeGroup(1, 'e')), 'lz4');
    await expect(client().putLogs('no-such-store', payload)).rejects.toMatchObject({ code: 'LogStoreNotExist', status: 404, retryable: false });
    const wrong = client({ credentials: { accessKeyId: CREDS.accessKeyId, accessKeySecret: 'not-the-secret' } });
    const err = (await wrong.putLogs('roundtrip', payload).catch((e: unknown) => e)) as SlsError;
    expect(err).toBeInstanceOf(SlsError);
    expect(err).toMatchObject({ code: 'SignatureNotMatch', status: 401, retryable: false });
    expect(err.requestId).toBeTruthy();
    expect(err.message).not.toContain('not-the-secret');
    const skewed = client({ now: () => new Date(Date.now() - 60 * 60 * 1000) });
    await expect(skewed.putLogs('roundtrip', payload)).rejects.toMatchObject({ code: 'RequestTimeExpired', status: 400, retryable: false });
  });

  it('injected write faults are retried, then surface as retryable once attempts run out', async () => {
    const c = client();
    await c.createLogstore({ logstoreName: 'faulty', ttl: 1, shardCount: 1 });
    const payload = preparePayload(encodeLogGroup(makeGroup(1, 'f')), 'lz4');
    const retried: string[] = [];
    const counting = client({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, onRetry: (e) => retried.push(e.code) });
    try {
      emulator.faults.set({ refuseWrites: true });
      await expect(counting.putLogs('faulty', payload)).rejects.toMatchObject({ code: 'ServerBusy', status: 503, retryable: true });
      expect(retried).toEqual(['ServerBusy', 'ServerBusy']);
      emulator.faults.set({ errorRate: 1, errorCode: 'WriteQuotaExceed', errorStatus: 403 });
      await expect(counting.putLogs('faulty', payload)).rejects.toMatchObject({ code: 'WriteQuotaExceed', status: 403, retryable: true });
    } finally {
      emulator.faults.clear();
    }
    await c.putLogs('faulty', payload);
    expect(await pullAll(c, 'faulty', 0)).toHaveLength(1);
  });
});
