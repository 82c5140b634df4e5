// `logseal search`: exactly the matching lines across data-key rotations and both modes, through the real CLI, the
// SLS emulator's GetLogs and index, and the KMS emulator; forged tokens, wrong index keys and bad input.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealedLogReader } from '../../agent/decrypt/reader.js';
import { parseWhere } from '../../agent/decrypt/where.js';
import { createIndexKey, encryptionContext, KmsClient, openIndexKey } from '../../agent/keys/index.js';
import { SealPool, indexToken, type SearchIndex } from '../../agent/seal/index.js';
import { SealedLogSearch } from '../../agent/search/index.js';
import { SlsClient, preparePayload, type GetLogsRequest } from '../../agent/ship/index.js';
import { decodeLogGroup, encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';
import { agentConfig, requireBuild, runCli, spawnAgent, startWorld, stopAgent, waitFor, writeConfig, type World } from '../helpers/e2e.js';

interface Row {
  time: number;
  user?: string;
  level: string;
  n: number;
}

let world: World;
let sls: SlsClient;
let kms: KmsClient;
let config: string;
let indexBlob: string;
const shipped: Row[] = [];
const hidden = new Set<number>(); // `n` of logs in the forged logstore whose token was replaced

const users = ['u0', 'u1', 'u2', 'alice', 'Alice'];
const levels = ['info', 'warn', 'error'];

function rows(g: number, count: number): Row[] {
  return Array.from({ length: count }, (_, i) => {
    const n = g * 1000 + i;
    const row: Row = { time: 1_700_000_000 + g * 100 + (i % 13), level: levels[(i + g) % 3], n };
    if (i % 11 !== 10) row.user = users[(i * 7 + g) % users.length];
    return row;
  });
}

function plainGroup(logs: Row[]): LogGroup {
  return {
    topic: 'search',
    source: '10.1.2.3',
    logTags: [{ key: 'env', value: 'test' }],
    logs: logs.map((r) => ({
      time: r.time,
      contents: [
        ...(r.user !== undefined ? [{ key: 'user', value: r.user }] : []),
        { key: 'level', value: r.level },
        { key: 'n', value: String(r.n) },
      ],
    })),
  };
}

/** Seals each group under a fresh data key (a rotation per group) and ships it. */
async function ship(logstore: string, groups: { logs: Row[]; mode: 'group' | 'log'; index?: SearchIndex }[], edit?: (g: LogGroup) => void): Promise<void> {
  for (const { logs, mode, index } of groups) {
    const pool = new SealPool({ threads: 1, ...(index ? { index } : {}) });
    try {
      const dk = await kms.generateDataKey(world.cmk, 32, encryptionContext(world.project, logstore));
      const sealed = await pool.seal({
        group: plainGroup(logs),
        key: { algorithm: 'AES_256_GCM', plaintext: dk.plaintext, cmkId: dk.keyId, blob: dk.blob },
        target: { project: world.project, logstore, mode, zip: 'lz4' },
        compressType: 'none',
      });
      let body = sealed.payload.body;
      if (edit) {
        const g = decodeLogGroup(body);
        edit(g);
        body = encodeLogGroup(g);
      }
      await sls.putLogs(logstore, preparePayload(body, 'lz4'));
    } finally {
      await pool.close();
    }
  }
}

/** Plaintext logs in a Logstore, decrypted as `logseal decrypt` does; 0 before it exists. */
async function plaintextCount(logstore: string): Promise<number> {
  const reader = new SealedLogReader(sls, kms, world.project);
  let n = 0;
  try {
    for await (const _ of reader.read({ logstore, from: 'begin', to: 'end' })) n++;
  } catch {
    return 0;
  } finally {
    reader.close();
  }
  return n;
}

async function search(where: string, extra: string[] = [], file = config) {
  const r = await runCli(['search', '-c', file, '--where', where, ...extra]);
  const lines = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { time: number; contents: Record<string, string> });
  return { ...r, ns: lines.map((l) => Number(l.contents.n)) };
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const expected = (keep: (r: Row) => boolean, from: Row[] = shipped) => sorted(from.filter(keep).map((r) => r.n));

beforeAll(async () => {
  requireBuild();
  world = await startWorld();
  const creds = { accessKeyId: world.emulators.accessKeyId, accessKeySecret: world.emulators.accessKeySecret };
  sls = new SlsClient({ endpoint: world.emulators.sls.url, project: world.project, credentials: creds });
  kms = new KmsClient({ endpoint: world.emulators.kms.url, regionId: 'cn-hangzhou', ...creds });

  // The documented way in: an index key from the CLI, then a Logstore created with the index on the token keys.
  const plain = await writeConfig(world, agentConfig(world), 'plain.yaml');
  const created = await runCli(['index-key', 'create', '-c', plain]);
  expect(created.code, created.stderr).toBe(0);
  const blob = created.stdout.trim();
  indexBlob = blob;
  config = await writeConfig(world, agentConfig(world, { seal: { index: ['user', 'level'], indexKey: blob } }));
  const store = await runCli(['logstore', 'create', world.logstore, '-c', config, '--shards', '2']);
  expect(store.code, store.stderr).toBe(0);
  expect(store.stderr).toContain('indexed');

  const key = await openIndexKey(kms, blob, world.project, world.logstore);
  const index: SearchIndex = { key, fields: ['user', 'level'], blob };
  // Both modes interleaved, a data key per group, and one group shipped before the fields were indexed.
  const groups = [
    { logs: rows(0, 60), mode: 'group' as const, index },
    { logs: rows(1, 45), mode: 'log' as const, index },
    { logs: rows(2, 30), mode: 'group' as const },
    { logs: rows(3, 70), mode: 'group' as const, index },
    { logs: rows(4, 25), mode: 'log' as const, index },
  ];
  await ship(world.logstore, groups);
  shipped.push(...groups.flatMap((g) => g.logs));
}, 60_000);

afterAll(async () => {
  await sls?.close();
  await world?.close();
});

describe('logseal search', () => {
  it('returns exactly the lines whose field equals the value, across rotations, both modes and unindexed groups', async () => {
    const r = await search('user = "u1"');
    expect(r.code, r.stderr).toBe(0);
    expect(sorted(r.ns)).toEqual(expected((x) => x.user === 'u1'));
    expect(new Set(r.ns).size).toBe(r.ns.length);
    const q = await search('user = "alice"'); // SLS matches tokens case-insensitively; the comparison is exact
    expect(sorted(q.ns)).toEqual(expected((x) => x.user === 'alice'));
  });

  it('applies the rest of the expression after decryption, and the time range to the logs', async () => {
    const cases: [string, (r: Row) => boolean][] = [
      ['user = "u2" and level = "warn"', (x) => x.user === 'u2' && x.level === 'warn'],
      ['user in ("u0", "Alice") and n >= 1000', (x) => (x.user === 'u0' || x.user === 'Alice') && x.n >= 1000],
      ['user = "u0" or level = "error"', (x) => x.user === 'u0' || x.level === 'error'],
      ['not user = "u1" and n < 30', (x) => x.user !== 'u1' && x.n < 30],
      ['level = "info" and user != "u2"', (x) => x.level === 'info' && x.user !== undefined && x.user !== 'u2'],
    ];
    // In process (the CLI adds nothing here but start-up time): the same SealedLogSearch the command uses.
    const s = new SealedLogSearch(sls, kms, world.project, world.logstore, await openIndexKey(kms, indexBlob, world.project, world.logstore), ['user', 'level']);
    try {
      for (const [where, keep] of cases) {
        const got: number[] = [];
        for await (const line of s.search(parseWhere(where), { from: 0, to: 2 ** 31 })) got.push(Number(line.contents.n));
        expect(sorted(got), where).toEqual(expected(keep));
      }
    } finally {
      s.close();
    }
    const ranged = await search('user = "u2"', ['--from', '1700000105', '--to', '1700000305']);
    expect(sorted(ranged.ns)).toEqual(expected((x) => x.user === 'u2' && x.time >= 1_700_000_105 && x.time < 1_700_000_305));
  }, 60_000);

  it('narrows GetLogs to the token terms, and prints each log once when pages overlap or come back Incomplete', async () => {
    const key = await openIndexKey(kms, indexBlob, world.project, world.logstore);
    // A GetLogs whose pages overlap (as when logs arrive between pages) and are Incomplete at first.
    let calls = 0;
    const overlapping = Object.create(sls) as SlsClient;
    overlapping.getLogs = (logstore: string, req: GetLogsRequest) => {
      calls++;
      return sls.getLogs(logstore, { ...req, offset: Math.max(0, req.offset - 3) }); // each page repeats 3 of the last
    };
    world.emulators.sls.faults.set({ getLogsIncomplete: 2 });
    const s = new SealedLogSearch(overlapping, kms, world.project, world.logstore, key, ['user', 'level'], 7);
    try {
      const where = parseWhere('user = "u1"');
      expect(await s.queryFor(where)).toBe(`(__bi_user__: ${indexToken(key, 'user', 'u1')} or not __tag__:__seal_bi__: "user")`);
      const got: number[] = [];
      for await (const line of s.search(where, { from: 0, to: 2 ** 31 })) got.push(Number(line.contents.n));
      expect(got.length).toBe(new Set(got).size);
      expect(sorted(got)).toEqual(expected((x) => x.user === 'u1'));
      expect(calls).toBeGreaterThan(3);
    } finally {
      s.close();
      world.emulators.sls.faults.clear();
    }
  });

  it('a forged token can hide a match but never adds a wrong line', async () => {
    const logstore = 'forged';
    const blob = await createIndexKey(kms, world.cmk, world.project, logstore);
    const forgedConfig = await writeConfig(world, agentConfig(world, { sls: { ...(agentConfig(world).sls as object), logstore }, seal: { index: ['user'], indexKey: blob } }), 'forged.yaml');
    expect((await runCli(['logstore', 'create', logstore, '-c', forgedConfig])).code).toBe(0);
    const key = await openIndexKey(kms, blob, world.project, logstore);
    const index: SearchIndex = { key, fields: ['user'], blob };
    const honest = rows(10, 40);
    const lure = rows(11, 40).filter((r) => r.user !== 'u1'); // no u1 here, yet it will carry u1's token
    const victim = rows(12, 40); // its u1 logs lose their token
    await ship(logstore, [{ logs: honest, mode: 'group', index }]);
    await ship(logstore, [{ logs: lure, mode: 'log', index }], (g) => {
      for (const log of g.logs) for (const c of log.contents) if (c.key === '__bi_user__') c.value = indexToken(key, 'user', 'u1');
    });
    await ship(logstore, [{ logs: victim, mode: 'group', index }], (g) => {
      for (const c of g.logs[0].contents) if (c.key === '__bi_user__') c.value = indexToken(key, 'user', 'somebody-else');
    });
    for (const r of victim) if (r.user === 'u1') hidden.add(r.n);
    const r = await search('user = "u1"', [], forgedConfig);
    expect(r.code, r.stderr).toBe(0);
    expect(sorted(r.ns)).toEqual(expected((x) => x.user === 'u1', honest)); // nothing from the lure, the victim's hidden
    expect(hidden.size).toBeGreaterThan(0);
  }, 60_000);

  it('a wrong index key: one line naming seal.indexKey, exit 78, whether KMS refuses it or it matches nothing', async () => {
    const otherStoresKey = await createIndexKey(kms, world.cmk, world.project, 'another');
    const refused = await search('user = "u1"', [], await writeConfig(world, agentConfig(world, { seal: { index: ['user'], indexKey: otherStoresKey } }), 'wrong1.yaml'));
    expect(refused.code).toBe(78);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^logseal: seal\.indexKey: KMS does not open it as the index key of e2e-project\/app/);

    const secondKey = await createIndexKey(kms, world.cmk, world.project, world.logstore);
    const unmatched = await search('user = "u1"', [], await writeConfig(world, agentConfig(world, { seal: { index: ['user', 'level'], indexKey: secondKey } }), 'wrong2.yaml'));
    expect(unmatched.code).toBe(78);
    expect(unmatched.stdout).toBe('');
    expect(unmatched.stderr.trim().split('\n')).toHaveLength(1);
    expect(unmatched.stderr).toMatch(/seal\.indexKey: none of the \d+ shipped logs with tokens checked .* carries a token made with this index key/);
  }, 60_000);

  it('bad input ends in one line naming it, with the exit code of the README table', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--where', 'user = '], 64, /^logseal: --where: column 8: expected a value after "=", got end of input$/],
      [['--where', '__bi_user__ = "x"'], 64, /^logseal: --where: unknown field "__bi_user__"/],
      [['--where', 'user = "x"', '--from', 'yesterday'], 64, /^logseal: --from: expected begin/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(['search', '-c', config, ...args]);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const noKey = await writeConfig(world, agentConfig(world, { seal: { index: ['user'] } }), 'nokey.yaml');
    const r = await runCli(['search', '-c', noKey, '--where', 'user = "x"']);
    expect(r.code).toBe(78);
    expect(r.stderr.trim()).toMatch(/^logseal: .*nokey\.yaml: seal\.indexKey: is required when seal\.index lists fields/);
    // The command the message points to works on that very config.
    const created = await runCli(['index-key', 'create', '-c', noKey]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.trim()).toMatch(/^[A-Za-z0-9+/]+=*$/);
  }, 60_000);
});

describe('the agent with searchable fields', () => {
  it('tokens made by the running daemon find its lines', async () => {
    const logstore = 'daemon';
    const blob = await createIndexKey(kms, world.cmk, world.project, logstore);
    const base = agentConfig(world);
    const file = await writeConfig(
      world,
      agentConfig(world, {
        sls: { ...(base.sls as object), logstore },
        seal: { algorithm: 'AES_256_GCM', mode: 'group', threads: 1, index: ['user'], indexKey: blob, rotate: { maxRecords: 2 } },
        inputs: [{ paths: [path.join(world.logDir, 'daemon-*.log')], parser: 'json', startAt: 'beginning' }],
        stateDir: path.join(world.dir, 'state-daemon'),
        batch: { maxLogs: 20, linger: '100ms' },
      }),
      'daemon.yaml',
    );
    const lines = Array.from({ length: 120 }, (_, i) => JSON.stringify({ user: `d${i % 4}`, i: String(i) }));
    await writeFile(path.join(world.logDir, 'daemon-1.log'), `${lines.join('\n')}\n`);
    const agent = spawnAgent(file);
    try {
      await waitFor('the daemon to ship every line', async () => ((await plaintextCount(logstore)) >= 120 ? true : undefined));
    } finally {
      expect(await stopAgent(agent)).toBe(0);
    }
    // `logseal decrypt` (worker threads) reads groups that carry tokens as it reads any other.
    const count = await runCli(['decrypt', '-c', file, '--logstore', logstore, '--count']);
    expect(count.code, count.stderr).toBe(0);
    expect(count.stdout.trim()).toBe('120');
    const r = await search('user = "d3"', [], file);
    expect(r.code, r.stderr).toBe(0);
    const got = r.stdout.trim().split('\n').map((l) => Number((JSON.parse(l) as { contents: { i: string } }).contents.i));
    expect(sorted(got)).toEqual(Array.from({ length: 30 }, (_, k) => 4 * k + 3));
  }, 60_000);
});
