// `logseal decrypt --consumer-group`: three real reader processes share a Logstore, one is killed with SIGKILL mid-way.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataKeyCache, KmsClient, encryptionContext } from '../../agent/keys/index.js';
import { SealPool } from '../../agent/seal/index.js';
import { SlsClient } from '../../agent/ship/index.js';
import type { LogGroup } from '../../agent/wire/loggroup.js';
import { agentConfig, cliPath, compareDelivery, requireBuild, runCli, startWorld, waitFor, writeConfig, type World } from '../helpers/e2e.js';

const LOGSTORE = 'shared';
const SHARDS = 4;
const GROUP = 'readers';
const LINES_PER_GROUP = 25;

let world: World;
let sls: SlsClient;
let pool: SealPool;
let keys: DataKeyCache;
let config: string;

beforeAll(async () => {
  requireBuild();
  world = await startWorld();
  const creds = { accessKeyId: world.emulators.accessKeyId, accessKeySecret: world.emulators.accessKeySecret };
  sls = new SlsClient({ endpoint: world.emulators.sls.url, project: world.project, credentials: creds });
  const kms = new KmsClient({ endpoint: world.emulators.kms.url, regionId: 'cn-hangzhou', ...creds });
  pool = new SealPool({ threads: 1 });
  keys = new DataKeyCache({ kms, cmk: world.cmk, algorithm: 'AES_256_GCM', context: encryptionContext(world.project, LOGSTORE) });
  await sls.createLogstore({ logstoreName: LOGSTORE, ttl: 7, shardCount: SHARDS, encrypt_conf: { enable: true, encrypt_type: 'default' } });
  config = await writeConfig(world, agentConfig(world, {}), 'group.yaml');
});

afterAll(async () => {
  keys?.close();
  await pool?.close();
  await sls?.close();
  await world?.close();
});

function lineText(g: number, i: number): string {
  return `group-${g} line-${i} ${'z'.repeat((g + i) % 40)}`;
}

/** Seals and ships LogGroups [from, to); PutLogs spreads them round-robin over the shards. */
async function ship(from: number, to: number): Promise<void> {
  for (let g = from; g < to; g++) {
    const group: LogGroup = {
      topic: 'cg',
      source: '10.0.0.9',
      logTags: [],
      logs: Array.from({ length: LINES_PER_GROUP }, (_, i) => ({ time: 1_700_000_000 + g, contents: [{ key: 'content', value: lineText(g, i) }] })),
    };
    const key = await keys.acquire(LINES_PER_GROUP, 10_000);
    const sealed = await pool.seal({ group, key, target: { project: world.project, logstore: LOGSTORE, mode: 'group', zip: 'lz4' }, compressType: 'lz4' });
    await sls.putLogs(LOGSTORE, sealed.payload);
  }
}

interface Reader {
  name: string;
  child: ChildProcess;
  out: string;
  stderr(): string;
  exited: Promise<number | null>;
  lines(): string[];
}

/** A reader whose stdout goes straight into a file, so what it printed survives a SIGKILL. */
function startReader(name: string): Reader {
  const out = path.join(world.dir, `${name}.out`);
  const fd = openSync(out, 'w');
  const child = spawn(
    process.execPath,
    [cliPath, 'decrypt', '-c', config, '--logstore', LOGSTORE, '--output', 'raw', '--follow', '--consumer-group', GROUP, '--consumer', name, '--create-group', '--group-timeout', '2', '--threads', '1'],
    { stdio: ['ignore', fd, 'pipe'] },
  );
  closeSync(fd);
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, child, out, stderr: () => err, exited, lines: () => readFileSync(out, 'utf8').split('\n').filter(Boolean) };
}

/** Lines of every shard from the given cursors (begin where none) to the end, read by a bounded `logseal decrypt`. */
async function linesFrom(cursors: Map<number, string>): Promise<string[]> {
  const args = ['decrypt', '-c', config, '--logstore', LOGSTORE, '--output', 'raw', '--threads', '1'];
  for (const [shard, cursor] of cursors) if (cursor) args.push('--cursor', `${shard}=${cursor}`);
  const res = await runCli(args);
  expect(res.code).toBe(0);
  return res.stdout.split('\n').filter(Boolean);
}

describe('logseal decrypt --consumer-group', () => {
  it('three readers, one killed mid-way: every line printed, duplicates only from what the killed one had not committed, all committed on SIGTERM', async () => {
    let shipped = 0;
    await ship(0, 40);
    shipped = 40;
    const readers = ['c1', 'c2', 'c3'].map(startReader);
    const [c1, c2, c3] = readers as [Reader, Reader, Reader];
    try {
      // Keep data coming while the readers share and re-share the shards.
      let shipping = true;
      const feeder = (async () => {
        while (shipping) {
          await ship(shipped, shipped + 4);
          shipped += 4;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      await waitFor('c2 to hold shards and print some of them', () => /"added":\[\d/.test(c2.stderr()) && c2.lines().length >= 100, 20_000, 50);
      await waitFor('every reader to hold a shard', () => readers.every((r) => /"added":\[\d/.test(r.stderr())), 20_000, 50);
      // Killed after it committed at least once, so the crash costs only what it printed since.
      await waitFor('c2 to commit a checkpoint', async () => (await sls.getCheckpoints(LOGSTORE, GROUP)).some((c) => c.consumer === 'c2'), 20_000, 50);
      // Kill it as soon as it printed more: most likely before its next commit (once a second), so some is in flight.
      const printedAtCommit = c2.lines().length;
      await waitFor('c2 to print more', () => c2.lines().length > printedAtCommit, 20_000, 10);
      c2.child.kill('SIGKILL');
      await c2.exited;
      // Before the 2 s timeout nobody else may take c2's shards, so these are c2's last commits for its shards.
      const atKill = new Map((await sls.getCheckpoints(LOGSTORE, GROUP)).map((c) => [c.shard, c.checkpoint]));
      const printedByC2 = c2.lines();
      await new Promise((r) => setTimeout(r, 500));
      shipping = false;
      await feeder;

      const expected = Array.from({ length: shipped }, (_, g) => Array.from({ length: LINES_PER_GROUP }, (_, i) => lineText(g, i))).flat();
      const union = () => readers.flatMap((r) => r.lines());
      await waitFor('the living readers to print every line', () => compareDelivery(expected, union()).missing.length === 0, 30_000, 100);
      for (const r of [c1, c3]) r.child.kill('SIGTERM');
      expect(await c1.exited).toBe(0);
      expect(await c3.exited).toBe(0);

      const got = union();
      const delivery = compareDelivery(expected, got);
      expect(delivery.missing).toEqual([]);
      expect(delivery.unexpected).toEqual([]);
      // In flight = what c2 printed past its shards' last checkpoints: those are the only lines another reader reads again.
      const afterCheckpoints = new Set(await linesFrom(atKill));
      const inFlight = new Set(printedByC2.filter((l) => afterCheckpoints.has(l)));
      const counts = new Map<string, number>();
      for (const l of got) counts.set(l, (counts.get(l) ?? 0) + 1);
      const duplicated = [...counts].filter(([, n]) => n > 1).map(([l]) => l);
      expect(duplicated.filter((l) => !inFlight.has(l))).toEqual([]);
      expect(delivery.duplicates).toBeLessThanOrEqual(inFlight.size);
      // c1 and c3 committed where their output ended when they stopped: nothing lies past the group's checkpoints.
      const atStop = new Map((await sls.getCheckpoints(LOGSTORE, GROUP)).map((c) => [c.shard, c.checkpoint]));
      expect(await linesFrom(atStop)).toEqual([]);
      console.info(`consumer group run: ${expected.length} lines, c2 printed ${printedByC2.length}, ${inFlight.size} of them past its last checkpoints, ${delivery.duplicates} printed twice`);
    } finally {
      for (const r of readers) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    }
  }, 60_000);

  it('a consumer group that does not exist: one line naming it, exit code 64', async () => {
    const res = await runCli(['decrypt', '-c', config, '--logstore', LOGSTORE, '--follow', '--consumer-group', 'no-such-group']);
    expect(res.code).toBe(64);
    expect(res.stderr.trim().split('\n')).toEqual([`logseal: --consumer-group: consumer group "no-such-group" does not exist in logstore ${LOGSTORE}; add --create-group to create it`]);
    expect(res.stdout).toBe('');
  });

  it('a group checkpoint SLS refuses ends the member with a line naming the group and shard, exit code 1', async () => {
    await sls.createLogstore({ logstoreName: 'one-shard', ttl: 7, shardCount: 1 });
    await sls.createConsumerGroup('one-shard', { consumerGroup: 'stale', timeout: 2, order: false });
    await sls.updateCheckpoint('one-shard', 'stale', { consumer: '', shard: 0, checkpoint: Buffer.from('999999').toString('base64'), forceSuccess: true });
    const res = await runCli(['decrypt', '-c', config, '--logstore', 'one-shard', '--follow', '--consumer-group', 'stale', '--threads', '1']);
    expect(res.code).toBe(1);
    const ours = res.stderr.split('\n').filter((l) => l.startsWith('logseal:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/^logseal: --consumer-group: the checkpoint of shard 0 in consumer group stale is refused by SLS/);
  });

  it('bad flags: one line naming the flag, exit code 64', async () => {
    const res = await runCli(['decrypt', '-c', config, '--logstore', LOGSTORE, '--consumer-group', GROUP]);
    expect(res.code).toBe(64);
    expect(res.stderr.trim().split('\n')).toEqual(['logseal: --consumer-group: needs --follow (a member reads its shards until SIGTERM/SIGINT)']);
  });
});
