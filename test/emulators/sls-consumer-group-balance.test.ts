// Consumer group membership in the SLS emulator: even shard split, hand-over only after release or timeout, on a fake clock.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { balanceShards } from '../../emulators/sls/consumer-group-balance.js';
import { ConsumerGroups } from '../../emulators/sls/consumer-groups.js';

describe('balanceShards', () => {
  const shards = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

  it('splits evenly among consumers that own nothing', () => {
    const t = balanceShards(shards, new Map(), ['a', 'b', 'c']);
    expect([...t.values()].map((s) => s.length).sort()).toEqual([3, 3, 4]);
    expect([...t.values()].flat().sort((x, y) => x - y)).toEqual(shards);
  });

  it('moves only the surplus of a consumer when another joins', () => {
    const owners = new Map(shards.map((s) => [s, 'a']));
    const t = balanceShards(shards, owners, ['a', 'b']);
    expect(t.get('a')).toEqual([0, 1, 2, 3, 4]);
    expect(t.get('b')).toEqual([5, 6, 7, 8, 9]);
  });

  it('leaves a balanced group as it is', () => {
    const owners = new Map<number, string>([[0, 'b'], [1, 'a'], [2, 'b']]);
    const t = balanceShards([0, 1, 2], owners, ['a', 'b']);
    expect(t.get('b')).toEqual([0, 2]);
    expect(t.get('a')).toEqual([1]);
  });
});

describe('ConsumerGroups membership', () => {
  let dir: string;
  let clock: number;
  let groups: ConsumerGroups;
  const now = () => clock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'logseal-cg-'));
    clock = 1_000_000;
    groups = await ConsumerGroups.load(dir, [0, 1, 2, 3], now);
    await groups.create({ consumerGroup: 'readers', timeout: 10, order: false });
  });

  afterEach(async () => {
    await groups.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Heartbeats like a member that takes what it is given and lets go of what it is not. */
  function beat(consumer: string, held: number[]): number[] {
    return groups.heartbeat('readers', consumer, held);
  }

  it('gives a lone consumer every shard', () => {
    expect(beat('a', [])).toEqual([0, 1, 2, 3]);
  });

  it('hands shards to a joining consumer only after the holder lets them go', () => {
    expect(beat('a', [])).toEqual([0, 1, 2, 3]);
    // b joins: a still lists all four, so b gets nothing yet.
    expect(beat('b', [])).toEqual([]);
    // a is told to keep two.
    expect(beat('a', [0, 1, 2, 3])).toEqual([0, 1]);
    // a is still stopping 2 and 3: b must wait.
    expect(beat('b', [])).toEqual([]);
    expect(beat('a', [0, 1, 2, 3])).toEqual([0, 1]);
    // a has let go of 2 and 3.
    expect(beat('a', [0, 1])).toEqual([0, 1]);
    expect(beat('b', [])).toEqual([2, 3]);
  });

  it('gives the shards of a consumer silent past the timeout to the others', () => {
    beat('a', []);
    beat('b', []);
    beat('a', [0, 1, 2, 3]);
    beat('a', [0, 1]);
    expect(beat('b', [])).toEqual([2, 3]);
    clock += 9_000;
    expect(beat('a', [0, 1])).toEqual([0, 1]);
    clock += 2_000; // b silent for 11 s > 10 s
    expect(beat('a', [0, 1])).toEqual([0, 1, 2, 3]);
    // b comes back still listing its shards: it must join again with none.
    expect(() => beat('b', [2, 3])).toThrow(expect.objectContaining({ code: 'NotExistConsumerWithBody' }));
    expect(beat('b', [])).toEqual([]);
  });

  it('never lets two live consumers hold one shard, whatever order they beat in', () => {
    const names = ['a', 'b', 'c'];
    const held = new Map<string, number[]>(names.map((n) => [n, []]));
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 300; round++) {
      const n = names[Math.floor(random() * names.length)]!;
      const answer = beat(n, held.get(n)!);
      // A member keeps what it is told to keep, starts what it is given and lets go of the rest only sometimes
      // right away (stopping a shard takes a while).
      const letGo = random() < 0.5;
      held.set(n, letGo ? answer : [...new Set([...held.get(n)!, ...answer])]);
      const owners = new Map<number, string>();
      for (const [member, shards] of held) {
        for (const s of shards) {
          // A shard listed by two members would be a double hold unless one of them was only told to let it go.
          if (owners.has(s)) throw new Error(`round ${round}: shard ${s} held by ${owners.get(s)} and ${member}`);
          owners.set(s, member);
        }
      }
    }
    // Once everyone let go of what they were not given, the split is even.
    for (let i = 0; i < 3; i++) for (const n of names) held.set(n, beat(n, held.get(n)!));
    expect(names.map((n) => held.get(n)!.length).sort()).toEqual([1, 1, 2]);
  });

  it('lets the holder set a checkpoint and refuses everyone else', async () => {
    beat('a', []);
    beat('b', []);
    await groups.updateCheckpoint('readers', 'a', false, { shard: 1, checkpoint: 'MTIz' });
    await expect(groups.updateCheckpoint('readers', 'b', false, { shard: 1, checkpoint: 'NDU2' })).rejects.toMatchObject({ code: 'ConsumerNotMatch' });
    await expect(groups.updateCheckpoint('readers', 'b', true, { shard: 1, checkpoint: 'NDU2' })).rejects.toMatchObject({ code: 'ConsumerNotMatch' });
    await expect(groups.updateCheckpoint('readers', 'z', false, { shard: 1, checkpoint: 'NDU2' })).rejects.toMatchObject({ code: 'ConsumerNotExsit' });
    await expect(groups.updateCheckpoint('readers', 'a', false, { shard: 9, checkpoint: 'NDU2' })).rejects.toMatchObject({ code: 'ShardNotExist' });
    await expect(groups.updateCheckpoint('readers', 'a', false, { shard: 1, checkpoint: 'not base64!' })).rejects.toMatchObject({ code: 'InvalidShardCheckPoint' });
    expect(groups.checkpoints('readers', 1)).toEqual([{ shard: 1, checkpoint: 'MTIz', updateTime: clock * 1000, consumer: 'a' }]);
    expect(groups.checkpoints('readers').map((c) => c.checkpoint)).toEqual(['', 'MTIz', '', '']);
  });
});
