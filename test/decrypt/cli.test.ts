// `logseal decrypt` as a real process against the emulators: filters, raw output, --out, --count, --follow, and
// every bad input ending in one line with the README's exit code.
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparePayload } from '../../agent/ship/index.js';
import { decodeLogGroup, encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';
import { agentConfig, cliPath, requireBuild, runCli, startWorld, waitFor, writeConfig, type World } from '../helpers/e2e.js';
import { makeGroups, shipGroups, shipper, type Shipper } from '../helpers/sealed.js';

let world: World;
let s: Shipper;
let cfg: string;
const LS = 'cli-main';

beforeAll(async () => {
  requireBuild();
  world = await startWorld();
  s = shipper(world);
  await s.sls.createLogstore({ logstoreName: LS, ttl: 7, shardCount: 2 });
  await shipGroups(s, world, LS, makeGroups('m', 4, 6));
  cfg = await writeConfig(world, agentConfig(world, { sls: { logstore: LS } }), 'cli.yaml');
});

afterAll(async () => {
  await s?.close();
  await world?.close();
});

const decrypt = (...args: string[]) => runCli(['decrypt', '-c', cfg, ...args]);
const contentsOf = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { contents: { content: string } }).contents.content);

describe('logseal decrypt', () => {
  it('filters with --where, --topic, --tag and counts with --count', async () => {
    const res = await decrypt('--where', 'level = "ERROR" and not status in (404)', '--tag', 'env=prod', '--topic', 'topic-m');
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(contentsOf(res.stdout).sort()).toEqual(['m 0.0', 'm 0.3', 'm 2.0', 'm 2.3']);
    const count = await decrypt('--count', '--where', 'status >= 404');
    expect(count.code).toBe(0);
    expect(count.stdout).toBe('16\n');
  });

  it('prints raw content byte for byte, invalid UTF-8 included', async () => {
    const ls = 'cli-raw';
    await s.sls.createLogstore({ logstoreName: ls, ttl: 7, shardCount: 1 });
    const odd = Uint8Array.from([0xff, 0x41, 0xc0, 0x80, 0x42]);
    const group: LogGroup = { logTags: [], logs: [{ time: 1_700_000_000, contents: [{ key: 'content', value: odd }] }, { time: 1_700_000_000, contents: [{ key: 'content', value: 'ok' }] }] };
    await shipGroups(s, world, ls, [group]);
    const out = await new Promise<Buffer>((resolve) => {
      const child = spawn(process.execPath, [cliPath, 'decrypt', '-c', cfg, '--logstore', ls, '--output', 'raw'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const parts: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => parts.push(b));
      child.on('close', () => resolve(Buffer.concat(parts)));
    });
    expect(out.equals(Buffer.concat([odd, Buffer.from('\nok\n')]))).toBe(true);
  });

  it('ends quietly with exit code 0 when the reader of its output goes away', async () => {
    const ls = 'cli-epipe';
    await s.sls.createLogstore({ logstoreName: ls, ttl: 7, shardCount: 1 });
    await shipGroups(s, world, ls, makeGroups('first', 1, 1));
    const child = spawn(process.execPath, [cliPath, 'decrypt', '-c', cfg, '--logstore', ls, '--follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.stdout.destroy();
    // The next write finds the pipe closed (EPIPE).
    await shipGroups(s, world, ls, makeGroups('second', 1, 1));
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  });

  it('--out writes the file whole, and leaves no file at all when the run fails', async () => {
    const file = path.join(world.dir, 'out.ndjson');
    const ok = await decrypt('--out', file);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('');
    expect(contentsOf(await readFile(file, 'utf8'))).toHaveLength(24);

    // A Logstore whose second group does not authenticate: exit 2, and neither FILE nor a temporary file remains.
    const ls = 'cli-tampered';
    await s.sls.createLogstore({ logstoreName: ls, ttl: 7, shardCount: 1 });
    await shipGroups(s, world, ls, makeGroups('t', 1, 3));
    const tamper = makeGroups('u', 1, 3);
    const sealed = await (async () => {
      const { DataKeyCache, encryptionContext } = await import('../../agent/keys/index.js');
      const keys = new DataKeyCache({ kms: s.kms, cmk: world.cmk, algorithm: 'AES_256_GCM', context: encryptionContext(world.project, ls) });
      const key = await keys.acquire(3, 1000);
      const r = await s.pool.seal({ group: tamper[0]!, key, target: { project: world.project, logstore: ls, mode: 'group', zip: 'lz4' }, compressType: 'none' });
      keys.close();
      return r;
    })();
    const shipped = decodeLogGroup(sealed.payload.body);
    const record = Buffer.from(shipped.logs[0]!.contents[0]!.value as string, 'base64');
    record[30]! ^= 0x01;
    shipped.logs[0]!.contents[0]!.value = record.toString('base64');
    await s.sls.putLogs(ls, preparePayload(encodeLogGroup(shipped), 'lz4'));
    const bad = path.join(world.dir, 'bad', 'out.ndjson');
    await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(bad)));
    await writeFile(bad, 'previous\n');
    const res = await decrypt('--logstore', ls, '--out', bad);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^logseal: decrypt: shard 0 cursor \S+: record does not authenticate/);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(await readFile(bad, 'utf8')).toBe('previous\n');
    expect(await readdir(path.dirname(bad))).toEqual(['out.ndjson']);
  });

  it('--follow prints new data as it arrives and stops cleanly on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const ls = `cli-follow-${signal.toLowerCase()}`;
      await s.sls.createLogstore({ logstoreName: ls, ttl: 7, shardCount: 1 });
      await shipGroups(s, world, ls, makeGroups('before', 1, 2));
      const child = spawn(process.execPath, [cliPath, 'decrypt', '-c', cfg, '--logstore', ls, '--follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await waitFor('the data already there', () => contentsOf(stdout).length === 2);
      await shipGroups(s, world, ls, makeGroups('after', 1, 2));
      await waitFor('the data put later', () => contentsOf(stdout).length === 4);
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(contentsOf(stdout)).toEqual(['before 0.0', 'before 0.1', 'after 0.0', 'after 0.1']);
      expect(stderr).toMatch(/^logseal: decrypt stopped; resume with --cursor 0=\S+\n$/);
      // Resuming from the printed cursor reads nothing twice.
      const resume = /--cursor (\S+)/.exec(stderr)![1]!;
      await shipGroups(s, world, ls, makeGroups('later', 1, 1));
      const rest = await decrypt('--logstore', ls, '--cursor', resume);
      expect(contentsOf(rest.stdout)).toEqual(['later 0.0']);
    }
  });

  it.each([
    [['--where', 'level = '], /^logseal: --where: column 9: expected a value after "=", got end of input$/],
    [['--where', 'levle = "ERROR"'], /^logseal: --where: field "levle" occurs in none of the 24 logs read$/],
    [['--from', '1700000100', '--to', '1700000000'], /^logseal: --from: 1700000100 is later than --to 1700000000$/],
    [['--from', 'yesterday-ish'], /^logseal: --from: expected begin, unix seconds or an ISO-8601 time, got "yesterday-ish"$/],
    [['--cursor', `0=${Buffer.from('999999').toString('base64')}`], /^logseal: --cursor: shard 0 cursor OTk5OTk5: the service refuses it/],
    [['--cursor', '0'], /^logseal: --cursor: expected SHARD=CURSOR, got "0"$/],
    [['--output', 'xml'], /^logseal: --output: expected ndjson or raw, got "xml"$/],
    [['--tag', 'novalue'], /^logseal: --tag: expected KEY=VALUE, got "novalue"$/],
    [['--shard', 'x'], /^logseal: --shard: expected a shard number, got "x"$/],
    [['--count', '--follow'], /^logseal: --count: cannot be combined with --follow/],
  ])('rejects %j with one line and exit code 64', async (args, message) => {
    const res = await decrypt(...args);
    expect(res.code).toBe(64);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr.trim()).toMatch(message);
    expect(res.stdout).toBe('');
  });
});
