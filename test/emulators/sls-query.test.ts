// The SLS emulator's GetLogs and index API: terms on indexed keys, and/or/not, parentheses, paging, progress, BYOK refusal.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlsClient, TEXT_KEY_INDEX } from '../../agent/ship/index.js';
import { preparePayload } from '../../agent/ship/payload.js';
import { encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';
import { startEmulators, type Emulators } from '../../emulators/index.js';
import { parseQuery } from '../../emulators/sls/query.js';

const PROJECT = 'proj-query';
let dir: string;
let emu: Emulators;
let sls: SlsClient;

function group(rows: [number, string, string][], tags: Record<string, string> = {}): LogGroup {
  return {
    topic: 'tp',
    source: 'src',
    logTags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    logs: rows.map(([time, user, level]) => ({ time, contents: [{ key: 'user', value: user }, { key: 'level', value: level }, { key: 'msg', value: `${user} ${level}` }] })),
  };
}

const put = (logstore: string, g: LogGroup) => sls.putLogs(logstore, preparePayload(encodeLogGroup(g), 'lz4'));

function search(logstore: string, query: string, o: { from?: number; to?: number; line?: number; offset?: number } = {}) {
  return sls.getLogs(logstore, { from: o.from ?? 0, to: o.to ?? 2_000_000_000, query, line: o.line ?? 100, offset: o.offset ?? 0 });
}
const textKeys = (...keys: string[]) => Object.fromEntries(keys.map((k) => [k, TEXT_KEY_INDEX]));
const users = async (query: string) => (await search('app', query)).logs.map((l) => `${l.__time__}:${l.user}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sls-query-'));
  emu = await startEmulators({ dataDir: dir });
  sls = new SlsClient({ endpoint: emu.sls.url, project: PROJECT, credentials: { accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret } });
  await sls.createLogstore({ logstoreName: 'app', ttl: 1, shardCount: 2 });
  await put('app', group([[100, 'alice', 'INFO'], [103, 'bob', 'warn']], { env: 'prod' }));
  await put('app', group([[101, 'carol', 'info'], [102, 'Alice', 'error']], { env: 'dev' }));
});

afterAll(async () => {
  await sls.close();
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

describe('index API', () => {
  it('GetLogs needs an index; GetIndex says IndexConfigNotExist until one is created', async () => {
    await expect(sls.getIndexKeys('app')).resolves.toBeUndefined();
    await expect(search('app', '*')).rejects.toMatchObject({ code: 'IndexConfigNotExist' });
    await sls.putIndex('app', textKeys('user', 'level'), false);
    await expect(sls.putIndex('app', textKeys('user'), false)).rejects.toMatchObject({ code: 'IndexAlreadyExist' });
    expect(await sls.getIndexKeys('app')).toEqual({
      user: { type: 'text', token: [' '], caseSensitive: false },
      level: { type: 'text', token: [' '], caseSensitive: false },
    });
    await sls.putIndex('app', textKeys('user', 'level', '__tag__:env'), true);
    expect(Object.keys((await sls.getIndexKeys('app'))!)).toEqual(['user', 'level', '__tag__:env']);
  });
});

describe('GetLogs', () => {
  it('answers logs in time order with contents, __time__, __topic__, __source__ and __tag__: fields', async () => {
    const page = await search('app', '*');
    expect(page.complete).toBe(true);
    expect(page.logs.map((l) => l.__time__)).toEqual(['100', '101', '102', '103']);
    expect(page.logs[0]).toEqual({ user: 'alice', level: 'INFO', msg: 'alice INFO', __time__: '100', __topic__: 'tp', __source__: 'src', '__tag__:env': 'prod' });
  });

  it('matches terms case-insensitively on indexed keys, combined with and, or, not and parentheses', async () => {
    expect(await users('user: alice')).toEqual(['100:alice', '102:Alice']);
    expect(await users('level: info and not user: carol')).toEqual(['100:alice']);
    expect(await users('user: bob or (level: info and __tag__:env: dev)')).toEqual(['101:carol', '103:bob']);
    expect(await users('user: alice not level: error')).toEqual(['100:alice']);
    expect(await users('not (user: alice or user: bob)')).toEqual(['101:carol']);
    expect(await users('(user: alice) (level: error)')).toEqual(['102:Alice']);
  });

  it('finds nothing on keys without an index, and refuses what it does not serve', async () => {
    expect(await users('msg: alice')).toEqual([]);
    await expect(search('app', 'alice')).rejects.toMatchObject({ code: 'ParameterInvalid' });
    await expect(search('app', 'user: ali*')).rejects.toMatchObject({ code: 'ParameterInvalid' });
    await expect(search('app', '(user: alice')).rejects.toMatchObject({ code: 'ParameterInvalid' });
  });

  it('selects [from, to) by log time and pages with line and offset', async () => {
    expect((await search('app', '*', { from: 101, to: 103 })).logs.map((l) => l.user)).toEqual(['carol', 'Alice']);
    const pages = [];
    for (let offset = 0; offset < 5; offset += 2) pages.push((await search('app', '*', { line: 2, offset })).logs.map((l) => l.user));
    expect(pages).toEqual([['alice', 'carol'], ['Alice', 'bob'], []]);
    await expect(search('app', '*', { line: 101 })).rejects.toMatchObject({ code: 'ParameterInvalid' });
  });

  it('says x-log-progress: Incomplete when told to, with part of the page', async () => {
    emu.sls.faults.set({ getLogsIncomplete: 1 });
    const first = await search('app', '*');
    expect(first.complete).toBe(false);
    expect(first.logs.length).toBeLessThan(4);
    expect((await search('app', '*')).complete).toBe(true);
  });

  it('refuses reads of a BYOK Logstore while its CMK is unusable, and serves them again once it is back', async () => {
    const cmk = (await emu.kms.keyring.createKey('Aliyun_AES_256')).keyId;
    const arn = 'acs:ram::1234567890123456:role/aliyunlogdefaultrole';
    await sls.createLogstore({ logstoreName: 'byok', ttl: 1, shardCount: 1, encrypt_conf: { enable: true, encrypt_type: 'default', user_cmk_info: { cmk_key_id: cmk, arn, region_id: 'cn-hangzhou' } } });
    await sls.putIndex('byok', textKeys('user'), false);
    await put('byok', group([[100, 'alice', 'info']]));
    await emu.kms.keyring.setEnabled(cmk, false);
    await expect(search('byok', 'user: alice')).rejects.toMatchObject({ code: 'KMSKeyDisabled' });
    await emu.kms.keyring.setEnabled(cmk, true);
    expect((await search('byok', 'user: alice')).logs).toHaveLength(1);
  });
});

describe('query parser', () => {
  it('binds not tighter than and, and and tighter than or', () => {
    expect(parseQuery('a: 1 or b: 2 and not c: 3')).toEqual({
      kind: 'or',
      left: { kind: 'term', key: 'a', value: '1' },
      right: { kind: 'and', left: { kind: 'term', key: 'b', value: '2' }, right: { kind: 'not', expr: { kind: 'term', key: 'c', value: '3' } } },
    });
    expect(parseQuery('')).toEqual({ kind: 'all' });
    expect(parseQuery('__tag__:env: "dev"')).toEqual({ kind: 'term', key: '__tag__:env', value: 'dev' });
  });
});
