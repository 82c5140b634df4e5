// The SLS emulator's consumer group API over real HTTP through the agent's SlsClient: calls, error codes, timeouts, restarts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlsClient, SlsError } from '../../agent/ship/index.js';
import { signedRequest } from '../../emulators/sls/client.js';
import { startSlsEmulator, type SlsEmulator } from '../../emulators/sls/index.js';

const ID = 'test-key-id';
const SECRET = 'test-key-secret';
const PROJECT = 'proj-cg';

let dir: string;
let emu: SlsEmulator;
let sls: SlsClient;

function client(): SlsClient {
  return new SlsClient({ endpoint: emu.url, project: PROJECT, credentials: { accessKeyId: ID, accessKeySecret: SECRET }, retry: { maxAttempts: 1 } });
}

async function failure(p: Promise<unknown>): Promise<{ code: string; status: number }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SlsError);
  return { code: (err as SlsError).code, status: (err as SlsError).status };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logseal-cg-http-'));
  emu = await startSlsEmulator({ dataDir: dir, accessKeyId: ID, accessKeySecret: SECRET });
  sls = client();
  await sls.createLogstore({ logstoreName: 'app', ttl: 7, shardCount: 3 });
});

afterAll(async () => {
  await sls?.close();
  await emu?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('consumer group administration', () => {
  it('creates, lists, updates and deletes groups', async () => {
    await sls.createConsumerGroup('app', { consumerGroup: 'admin-a', timeout: 30, order: true });
    await sls.createConsumerGroup('app', { consumerGroup: 'admin-b', timeout: 5, order: false });
    expect(await sls.listConsumerGroups('app')).toEqual([
      { consumerGroup: 'admin-a', timeout: 30, order: true },
      { consumerGroup: 'admin-b', timeout: 5, order: false },
    ]);
    await sls.updateConsumerGroup('app', 'admin-b', { timeout: 9, order: true });
    await sls.deleteConsumerGroup('app', 'admin-a');
    expect(await sls.listConsumerGroups('app')).toEqual([{ consumerGroup: 'admin-b', timeout: 9, order: true }]);
  });

  it('answers the service error codes', async () => {
    await sls.createConsumerGroup('app', { consumerGroup: 'dup', timeout: 30, order: false });
    expect(await failure(sls.createConsumerGroup('app', { consumerGroup: 'dup', timeout: 30, order: false }))).toEqual({ code: 'ConsumerGroupAlreadyExist', status: 400 });
    expect(await failure(sls.createConsumerGroup('app', { consumerGroup: 'Bad Name', timeout: 30, order: false }))).toEqual({ code: 'JsonInfoInvalid', status: 400 });
    expect(await failure(sls.createConsumerGroup('app', { consumerGroup: 'no-timeout', timeout: 0, order: false }))).toEqual({ code: 'JsonInfoInvalid', status: 400 });
    expect(await failure(sls.createConsumerGroup('nope', { consumerGroup: 'g1', timeout: 30, order: false }))).toEqual({ code: 'LogStoreNotExist', status: 404 });
    for (const call of [
      sls.heartbeat('app', 'missing', 'c1', []),
      sls.getCheckpoints('app', 'missing'),
      sls.updateCheckpoint('app', 'missing', { consumer: 'c1', shard: 0, checkpoint: 'MA==' }),
      sls.updateConsumerGroup('app', 'missing', { order: false }),
      sls.deleteConsumerGroup('app', 'missing'),
    ]) {
      expect(await failure(call)).toEqual({ code: 'ConsumerGroupNotExist', status: 404 });
    }
    expect(await failure(sls.updateCheckpoint('app', 'dup', { consumer: 'c1', shard: 0, checkpoint: 'MA==' }))).toEqual({ code: 'ConsumerNotExsit', status: 400 });
    expect(await failure(sls.heartbeat('app', 'dup', 'c1', [0]))).toEqual({ code: 'NotExistConsumerWithBody', status: 400 });
  });

  it('refuses unsigned or wrongly signed consumer group calls like every other call', async () => {
    const res = await signedRequest({ url: emu.url, project: PROJECT, accessKeyId: ID, accessKeySecret: 'wrong-secret', method: 'GET', path: '/logstores/app/consumergroups' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body.toString()).errorCode).toBe('SignatureNotMatch');
  });
});

describe('members and checkpoints', () => {
  it('balances shards, drops a silent member after the timeout and keeps checkpoints across a restart', async () => {
    await sls.createConsumerGroup('app', { consumerGroup: 'readers', timeout: 1, order: false });
    expect(await sls.heartbeat('app', 'readers', 'a', [])).toEqual([0, 1, 2]);
    expect(await sls.heartbeat('app', 'readers', 'b', [])).toEqual([]);
    // a keeps two, lets go of shard 2 after committing where it stopped.
    expect(await sls.heartbeat('app', 'readers', 'a', [0, 1, 2])).toEqual([0, 1]);
    const cursor = await sls.getCursor('app', 2, 'end');
    await sls.updateCheckpoint('app', 'readers', { consumer: 'a', shard: 2, checkpoint: cursor });
    expect(await sls.heartbeat('app', 'readers', 'a', [0, 1])).toEqual([0, 1]);
    expect(await sls.heartbeat('app', 'readers', 'b', [])).toEqual([2]);
    expect(await failure(sls.updateCheckpoint('app', 'readers', { consumer: 'a', shard: 2, checkpoint: cursor }))).toEqual({ code: 'ConsumerNotMatch', status: 400 });

    // b stays alive; a goes silent past the 1 s timeout.
    const started = Date.now();
    let got: number[] = [];
    while (got.length < 3) {
      expect(Date.now() - started).toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 250));
      got = await sls.heartbeat('app', 'readers', 'b', [2]);
    }
    expect(got).toEqual([0, 1, 2]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);

    const before = await sls.getCheckpoints('app', 'readers');
    expect(before.find((c) => c.shard === 2)).toMatchObject({ checkpoint: cursor, consumer: 'a' });
    await sls.close();
    await emu.close();
    emu = await startSlsEmulator({ dataDir: dir, accessKeyId: ID, accessKeySecret: SECRET });
    sls = client();
    expect(await sls.getCheckpoints('app', 'readers')).toEqual(before);
    expect(await sls.getCheckpoints('app', 'readers', 2)).toEqual(before.filter((c) => c.shard === 2));
    expect(await sls.listConsumerGroups('app')).toContainEqual({ consumerGroup: 'readers', timeout: 1, order: false });
    // Members live in memory: after the restart b is unknown and joins again.
    expect(await failure(sls.heartbeat('app', 'readers', 'b', [0, 1, 2]))).toEqual({ code: 'NotExistConsumerWithBody', status: 400 });
    expect(await sls.heartbeat('app', 'readers', 'b', [])).toEqual([0, 1, 2]);
  });

  it('deletes a logstore with its consumer groups', async () => {
    await sls.createLogstore({ logstoreName: 'gone', ttl: 7, shardCount: 1 });
    await sls.createConsumerGroup('gone', { consumerGroup: 'g1', timeout: 5, order: false });
    await sls.deleteLogstore('gone');
    await sls.createLogstore({ logstoreName: 'gone', ttl: 7, shardCount: 1 });
    expect(await sls.listConsumerGroups('gone')).toEqual([]);
  });
});
