// The consumer group flags of `logseal decrypt`: which combinations are refused, and with which one-line message.
import { describe, expect, it } from 'vitest';
import { DEFAULT_GROUP_TIMEOUT_S, planGroup, type GroupFlags } from '../../agent/cli/commands/decrypt-group.js';
import { UsageError } from '../../agent/cli/exit.js';

function refusal(flags: GroupFlags): string {
  try {
    planGroup(flags);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(flags)}`);
}

describe('planGroup', () => {
  it('is off without --consumer-group, and then refuses the flags that only make sense with it', () => {
    expect(planGroup({ follow: true })).toBeUndefined();
    expect(refusal({ consumer: 'c1' })).toBe('--consumer: only with --consumer-group');
    expect(refusal({ createGroup: true })).toBe('--create-group: only with --consumer-group');
    expect(refusal({ groupTimeout: '5' })).toBe('--group-timeout: only with --consumer-group');
  });

  it('names this member hostname-pid unless told, and creates the group only when asked', () => {
    const plan = planGroup({ consumerGroup: 'readers', follow: true })!;
    expect(plan).toEqual({ group: 'readers', consumer: expect.stringMatching(new RegExp(`-${process.pid}$`)) });
    expect(planGroup({ consumerGroup: 'readers', follow: true, consumer: 'host-1', createGroup: true })).toEqual({ group: 'readers', consumer: 'host-1', create: { timeout: DEFAULT_GROUP_TIMEOUT_S } });
    expect(planGroup({ consumerGroup: 'readers', follow: true, createGroup: true, groupTimeout: '3' })!.create).toEqual({ timeout: 3 });
  });

  it.each<[GroupFlags, string]>([
    [{ consumerGroup: 'g1' }, '--consumer-group: needs --follow'],
    [{ consumerGroup: 'Bad Group', follow: true }, '--consumer-group: expected 2-128 characters'],
    [{ consumerGroup: 'g1', follow: true, consumer: 'has space' }, '--consumer: expected 1-128 characters'],
    [{ consumerGroup: 'g1', follow: true, shard: '0' }, '--shard: cannot be combined with --consumer-group'],
    [{ consumerGroup: 'g1', follow: true, cursor: ['0=MA=='] }, '--cursor: cannot be combined with --consumer-group'],
    [{ consumerGroup: 'g1', follow: true, count: true }, '--count: cannot be combined with --consumer-group'],
    [{ consumerGroup: 'g1', follow: true, out: 'x.txt' }, '--out: cannot be combined with --consumer-group'],
    [{ consumerGroup: 'g1', follow: true, groupTimeout: '5' }, '--group-timeout: only with --create-group'],
    [{ consumerGroup: 'g1', follow: true, createGroup: true, groupTimeout: '0' }, '--group-timeout: expected seconds from 1 to 86400'],
    [{ consumerGroup: 'g1', follow: true, createGroup: true, groupTimeout: '2s' }, '--group-timeout: expected seconds from 1 to 86400'],
  ])('refuses %j', (flags, message) => {
    expect(refusal(flags)).toContain(message);
  });
});
