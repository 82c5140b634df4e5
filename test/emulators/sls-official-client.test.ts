// The official @alicloud/log Node.js client against the SLS emulator: what it sends must be accepted, and its errors understood.
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readShard } from '../../emulators/sls/client.js';
import { startSlsEmulator, type SlsEmulator } from '../../emulators/sls/index.js';

const ID = 'official-id';
const SECRET = 'official-secret';
const PROJECT = 'proj-official';

interface OfficialClient {
  createLogStore(project: string, logstore: string, data: { ttl: number; shardCount: number }, options?: object): Promise<unknown>;
  getLogStore(project: string, logstore: string, options?: object): Promise<Record<string, unknown>>;
  listLogStore(project: string, data?: object, options?: object): Promise<{ logstores: string[] }>;
  postLogStoreLogs(
    project: string,
    logstore: string,
    data: { logs: { timestamp: number; content: Record<string, string> }[]; topic?: string; source?: string; tags?: Record<string, string>[] },
    options?: object,
  ): Promise<unknown>;
}
type OfficialClientClass = new (config: { accessKeyId: string; accessKeySecret: string; endpoint: string }) => OfficialClient;

// The client is CommonJS without type declarations.
const Client = createRequire(import.meta.url)('@alicloud/log') as OfficialClientClass;

/** The client addresses `<project>.<endpoint>`; resolve every name to the emulator instead of touching /etc/hosts. */
const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};
const agent = new Agent({ keepAlive: true, lookup: toLoopback });

let dir: string;
let emu: SlsEmulator;
let client: OfficialClient;
const options = { agent, timeout: 10_000 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sls-official-'));
  emu = await startSlsEmulator({ dataDir: dir, accessKeyId: ID, accessKeySecret: SECRET });
  client = new Client({ accessKeyId: ID, accessKeySecret: SECRET, endpoint: `http://sls.emulator.test:${emu.port}` });
});

afterAll(async () => {
  agent.destroy();
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

describe('@alicloud/log against the emulator', () => {
  it('creates and describes a logstore', async () => {
    await client.createLogStore(PROJECT, 'official', { ttl: 3, shardCount: 2 }, options);
    const got = await client.getLogStore(PROJECT, 'official', options);
    expect(got).toMatchObject({ logstoreName: 'official', ttl: 3, shardCount: 2 });
    expect((await client.listLogStore(PROJECT, {}, options)).logstores).toEqual(['official']);
  });

  it('writes logs with postLogStoreLogs (raw protobuf body) that read back intact', async () => {
    await client.postLogStoreLogs(
      PROJECT,
      'official',
      {
        topic: 'orders',
        source: '192.168.1.7',
        tags: [{ team: 'payments' }],
        logs: [
          { timestamp: 1_700_000_100, content: { level: 'info', msg: 'order 1 paid' } },
          { timestamp: 1_700_000_101, content: { level: 'warn', msg: 'order 2 retried' } },
        ],
      },
      options,
    );
    const target = { url: emu.url, project: PROJECT, accessKeyId: ID, accessKeySecret: SECRET };
    const groups = [...(await readShard(target, 'official', 0)), ...(await readShard(target, 'official', 1))];
    expect(groups).toEqual([
      {
        topic: 'orders',
        source: '192.168.1.7',
        logTags: [{ key: 'team', value: 'payments' }],
        logs: [
          { time: 1_700_000_100, contents: [{ key: 'level', value: 'info' }, { key: 'msg', value: 'order 1 paid' }] },
          { time: 1_700_000_101, contents: [{ key: 'level', value: 'warn' }, { key: 'msg', value: 'order 2 retried' }] },
        ],
      },
    ]);
  });

  it('surfaces the emulator errors with their SLS codes', async () => {
    await expect(client.createLogStore(PROJECT, 'official', { ttl: 3, shardCount: 2 }, options)).rejects.toMatchObject({
      code: 'LogStoreAlreadyExist',
    });
    await expect(client.getLogStore(PROJECT, 'absent-store', options)).rejects.toMatchObject({ code: 'LogStoreNotExist' });
    const wrong = new Client({ accessKeyId: ID, accessKeySecret: 'wrong', endpoint: `sls.emulator.test:${emu.port}` });
    await expect(wrong.getLogStore(PROJECT, 'official', options)).rejects.toMatchObject({ code: 'SignatureNotMatch' });
  });
});
