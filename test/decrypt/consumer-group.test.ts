// ConsumerGroupMember against the real SLS emulator with a fake engine: assignment, hand-over with checkpoints, crash, stop.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsumerGroupGoneError, ConsumerGroupMember, type ConsumerGroupApi, type ShardEngine } from '../../agent/decrypt/consumer-group.js';
import { SlsClient, SlsError } from '../../agent/ship/index.js';
import { startSlsEmulator, type SlsEmulator } from '../../emulators/sls/index.js';
import { encodeCursor } from '../../emulators/sls/pull.js';
import { waitFor } from '../helpers/e2e.js';

const ID = 'member-key-id';
const SECRET = 'member-key-secret';
const SHARDS = 4;

let dir: string;
let emu: SlsEmulator;
let sls: SlsClient;

/** Which engine runs which shard, across all engines of a test: two at once is the failure the group prevents. */
class Runs {
  readonly owner = new Map<number, string>();
}

class FakeEngine implements ShardEngine {
  readonly started: { shard: number; from: string }[] = [];
  readonly onWritten = new Map<number, (c: string) => void>();
  readonly last = new Map<number, string>();

  constructor(
    private readonly name: string,
    private readonly runs: Runs,
  ) {}

  startShard(o: { shard: number; from: string }, onWritten?: (c: string) => void): void {
    const other = this.runs.owner.get(o.shard);
    if (other !== undefined) throw new Error(`shard ${o.shard} started by ${this.name} while ${other} runs it`);
    this.runs.owner.set(o.shard, this.name);
    this.started.push({ shard: o.shard, from: o.from });
    this.onWritten.set(o.shard, onWritten!);
  }

  async stopShard(shard: number): Promise<string | undefined> {
    this.runs.owner.delete(shard);
    this.onWritten.delete(shard);
    return this.last.get(shard);
  }

  /** Output of `shard` written up to `position`. */
  write(shard: number, position: number): void {
    const cursor = encodeCursor(position);
    this.last.set(shard, cursor);
    this.onWritten.get(shard)!(cursor);
  }

  running(): number[] {
    return [...this.onWritten.keys()].sort();
  }

  /** The process died: its shards are not running anywhere any more. */
  crash(): void {
    for (const s of this.onWritten.keys()) this.runs.owner.delete(s);
    this.onWritten.clear();
  }
}

/** An API whose calls never answer once frozen: a member that was killed. */
function freezable(api: ConsumerGroupApi): { api: ConsumerGroupApi; freeze(): void } {
  let frozen = false;
  const never = new Promise<never>(() => undefined);
  const wrap =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> =>
      frozen ? never : f(...a);
  return {
    api: {
      heartbeat: wrap(api.heartbeat.bind(api)),
      updateCheckpoint: wrap(api.updateCheckpoint.bind(api)),
      getCheckpoints: wrap(api.getCheckpoints.bind(api)),
      getCursor: wrap(api.getCursor.bind(api)),
    },
    freeze: () => (frozen = true),
  };
}

function member(group: string, consumer: string, engine: ShardEngine, api: ConsumerGroupApi = sls): ConsumerGroupMember {
  return new ConsumerGroupMember({ sls: api, engine, logstore: 'app', group, consumer, timeoutSec: 1, heartbeatMs: 100, commitMs: 50 });
}

async function checkpoint(group: string, shard: number): Promise<string> {
  return (await sls.getCheckpoints('app', group, shard))[0]!.checkpoint;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logseal-member-'));
  emu = await startSlsEmulator({ dataDir: dir, accessKeyId: ID, accessKeySecret: SECRET });
  sls = new SlsClient({ endpoint: emu.url, project: 'proj-member', credentials: { accessKeyId: ID, accessKeySecret: SECRET } });
  await sls.createLogstore({ logstoreName: 'app', ttl: 7, shardCount: SHARDS });
});

afterAll(async () => {
  await sls?.close();
  await emu?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ConsumerGroupMember', () => {
  it('shares shards, hands them over at the committed cursor, survives a crash and commits on stop', async () => {
    await sls.createConsumerGroup('app', { consumerGroup: 'share', timeout: 1, order: false });
    const runs = new Runs();
    const engineA = new FakeEngine('a', runs);
    const a = member('share', 'a', engineA);
    const runA = a.run();
    await waitFor('a to run every shard', () => engineA.running().length === SHARDS, 5_000, 20);
    // No checkpoints yet: every shard starts at its beginning.
    expect(engineA.started.map((s) => s.from)).toEqual(Array(SHARDS).fill(encodeCursor(0)));
    for (let s = 0; s < SHARDS; s++) engineA.write(s, 10 + s);
    await waitFor('a to commit', async () => (await checkpoint('share', 3)) === encodeCursor(13), 5_000, 20);

    // b joins; a lets go of two shards after one more write each, and b continues exactly where a stopped.
    for (let s = 0; s < SHARDS; s++) engineA.write(s, 20 + s);
    const crashedB = freezable(sls);
    const engineB = new FakeEngine('b', runs);
    const b = member('share', 'b', engineB, crashedB.api);
    const runB = b.run();
    await waitFor('b to run two shards', () => engineB.running().length === 2, 5_000, 20);
    expect(engineA.running().length).toBe(2);
    for (const { shard, from } of engineB.started) expect(from).toBe(encodeCursor(20 + shard));

    // b writes, commits, writes more, then dies: a takes its shards back at b's last commit.
    for (const s of engineB.running()) engineB.write(s, 30 + s);
    await waitFor('b to commit', async () => {
      for (const s of engineB.running()) if ((await checkpoint('share', s)) !== encodeCursor(30 + s)) return false;
      return true;
    }, 5_000, 20);
    const bShards = engineB.running();
    crashedB.freeze();
    for (const s of bShards) engineB.write(s, 40 + s); // printed, never committed: the duplicates a crash may cost
    engineB.crash();
    const startedBefore = engineA.started.length;
    await waitFor('a to take b’s shards after the timeout', () => engineA.running().length === SHARDS, 5_000, 20);
    const retaken = engineA.started.slice(startedBefore);
    expect(retaken.map((s) => s.shard).sort()).toEqual(bShards);
    for (const { shard, from } of retaken) expect(from).toBe(encodeCursor(30 + shard));

    // Stop commits the last written cursors before letting go.
    for (let s = 0; s < SHARDS; s++) engineA.write(s, 50 + s);
    await a.stop();
    await runA;
    for (let s = 0; s < SHARDS; s++) expect(await checkpoint('share', s)).toBe(encodeCursor(50 + s));
    // A newcomer gets a's shards once a timed out, and continues from a's last commits.
    let held: number[] = [];
    await waitFor('c to get every shard once a timed out', async () => (held = await sls.heartbeat('app', 'share', 'c', held)).length === SHARDS, 5_000, 100);
    void runB;
  });

  it('joins again after SLS forgot it (an emulator restart) and resumes every shard from the persisted checkpoints', async () => {
    await sls.createConsumerGroup('app', { consumerGroup: 'restart', timeout: 1, order: false });
    const engine = new FakeEngine('r', new Runs());
    const m = member('restart', 'r', engine);
    const run = m.run();
    await waitFor('the member to run its shards', () => engine.running().length === SHARDS, 5_000, 20);
    for (let s = 0; s < SHARDS; s++) engine.write(s, 60 + s);
    await waitFor('the commits', async () => (await sls.getCheckpoints('app', 'restart')).every((c) => c.checkpoint === encodeCursor(60 + c.shard)), 5_000, 20);
    await emu.close();
    emu = await startSlsEmulator({ dataDir: dir, accessKeyId: ID, accessKeySecret: SECRET, port: emu.port });
    // The restarted SLS refuses its heartbeat listing shards; it lets go of them all and starts them again.
    await waitFor('the member to start every shard again', () => engine.started.length === 2 * SHARDS && engine.running().length === SHARDS, 10_000, 20);
    for (const { shard, from } of engine.started.slice(SHARDS)) expect(from).toBe(encodeCursor(60 + shard));
    await m.stop();
    await run;
  });

  it('stops its shards once SLS has not answered for longer than the timeout, and joins again when it answers', async () => {
    await sls.createConsumerGroup('app', { consumerGroup: 'cut-off', timeout: 1, order: false });
    let reachable = true;
    const unreachable = () => Promise.reject(new SlsError({ code: 'NetworkError', status: 0, detail: 'connect ECONNREFUSED' }));
    const api: ConsumerGroupApi = {
      heartbeat: (...a) => (reachable ? sls.heartbeat(...a) : unreachable()),
      updateCheckpoint: (...a) => (reachable ? sls.updateCheckpoint(...a) : unreachable()),
      getCheckpoints: (...a) => (reachable ? sls.getCheckpoints(...a) : unreachable()),
      getCursor: (...a) => (reachable ? sls.getCursor(...a) : unreachable()),
    };
    const engine = new FakeEngine('n', new Runs());
    const m = member('cut-off', 'n', engine, api);
    const run = m.run();
    await waitFor('the member to run its shards', () => engine.running().length === SHARDS, 5_000, 20);
    reachable = false;
    const cut = Date.now();
    // By then SLS may have handed its shards to someone else: it must not keep reading them.
    await waitFor('the member to stop every shard', () => engine.running().length === 0, 5_000, 20);
    expect(Date.now() - cut).toBeGreaterThanOrEqual(900);
    reachable = true;
    await waitFor('the member to run its shards again', () => engine.running().length === SHARDS, 5_000, 20);
    await m.stop();
    await run;
  });

  it('ends with ConsumerGroupGoneError when the group is deleted under it', async () => {
    await sls.createConsumerGroup('app', { consumerGroup: 'doomed', timeout: 1, order: false });
    const engine = new FakeEngine('d', new Runs());
    const m = member('doomed', 'd', engine);
    const run = m.run();
    await waitFor('the member to run its shards', () => engine.running().length === SHARDS, 5_000, 20);
    await sls.deleteConsumerGroup('app', 'doomed');
    await expect(run).rejects.toBeInstanceOf(ConsumerGroupGoneError);
    expect(engine.running()).toEqual([]);
  });
});
