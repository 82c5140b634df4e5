// `logseal decrypt --consumer-group G --follow`: this process reads the shards SLS assigns it within the group, until stopped.
import { hostname } from 'node:os';
import { ConsumerGroupMember, CursorError, type ShardEngine } from '../../decrypt/index.js';
import { SlsClient, type SlsClientOptions } from '../../ship/index.js';
import type { Logger } from '../../telemetry/logger.js';
import { UsageError } from '../exit.js';

export interface GroupFlags {
  consumerGroup?: string;
  consumer?: string;
  createGroup?: boolean;
  groupTimeout?: string;
  follow?: boolean;
  shard?: string;
  cursor?: string[];
  to?: string;
  count?: boolean;
  out?: string;
}

/** Seconds SLS waits for a silent member before handing its shards on, for groups that --create-group makes. */
export const DEFAULT_GROUP_TIMEOUT_S = 60;
const CONSUMER_NAME = /^[A-Za-z0-9._:-]{1,128}$/;

export interface GroupPlan {
  group: string;
  consumer: string;
  create?: { timeout: number };
}

/** Checks the consumer group flags against each other and the rest; undefined when no group is asked for. */
export function planGroup(flags: GroupFlags): GroupPlan | undefined {
  if (flags.consumerGroup === undefined) {
    for (const [given, name] of [
      [flags.consumer, '--consumer'],
      [flags.createGroup, '--create-group'],
      [flags.groupTimeout, '--group-timeout'],
    ] as const) {
      if (given !== undefined) throw new UsageError(`${name}: only with --consumer-group`);
    }
    return undefined;
  }
  const group = flags.consumerGroup;
  if (!/^[a-z0-9][a-z0-9_-]{0,126}[a-z0-9]$/.test(group)) {
    throw new UsageError(`--consumer-group: expected 2-128 characters of a-z, 0-9, "_" and "-" (starting and ending with a letter or digit), got "${group}"`);
  }
  if (!flags.follow) throw new UsageError('--consumer-group: needs --follow (a member reads its shards until SIGTERM/SIGINT)');
  const conflicts: Array<[unknown, string, string]> = [
    [flags.shard, '--shard', 'SLS assigns the shards'],
    [flags.cursor, '--cursor', 'shards start from the group checkpoints'],
    [flags.count, '--count', 'a member has no end'],
    [flags.out, '--out', 'checkpoints are committed as output is written, so the output must not wait for the end; redirect stdout instead'],
  ];
  for (const [given, name, why] of conflicts) if (given !== undefined && given !== false) throw new UsageError(`${name}: cannot be combined with --consumer-group (${why})`);
  const consumer = flags.consumer ?? `${hostname()}-${process.pid}`;
  if (!CONSUMER_NAME.test(consumer)) throw new UsageError(`--consumer: expected 1-128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-", got "${consumer}"`);
  let timeout = DEFAULT_GROUP_TIMEOUT_S;
  if (flags.groupTimeout !== undefined) {
    if (!flags.createGroup) throw new UsageError('--group-timeout: only with --create-group (an existing group keeps its timeout)');
    timeout = Number(flags.groupTimeout);
    if (!/^\d+$/.test(flags.groupTimeout) || timeout < 1 || timeout > 86_400) throw new UsageError(`--group-timeout: expected seconds from 1 to 86400, got "${flags.groupTimeout}"`);
  }
  return { group, consumer, ...(flags.createGroup ? { create: { timeout } } : {}) };
}

export interface GroupRun {
  plan: GroupPlan;
  logstore: string;
  /** Where the member's SLS client connects (its own, with timeouts shorter than the group's). */
  client: Omit<SlsClientOptions, 'timeoutMs'>;
  /** Used to look the group up (and create it). */
  sls: SlsClient;
  engine: ShardEngine;
  /** Where shards without a checkpoint start. */
  from: 'begin' | number;
  /** Resolves when the member should stop (a signal); rejects when reading failed (the engine, the output). */
  until: Promise<void>;
  log: Pick<Logger, 'info' | 'warn'>;
}

/** Joins the group and reads what it assigns until `until` settles; every shard's checkpoint is committed on the way out. */
export async function runGroupMember(r: GroupRun): Promise<void> {
  const { group, consumer, create } = r.plan;
  let spec = (await r.sls.listConsumerGroups(r.logstore)).find((g) => g.consumerGroup === group);
  if (!spec) {
    if (!create) throw new UsageError(`--consumer-group: consumer group "${group}" does not exist in logstore ${r.logstore}; add --create-group to create it`);
    try {
      await r.sls.createConsumerGroup(r.logstore, { consumerGroup: group, timeout: create.timeout, order: false });
    } catch (err) {
      // Several members started at once race to create it; one wins and the others join.
      if ((err as { code?: string }).code !== 'ConsumerGroupAlreadyExist') throw err;
    }
    spec = (await r.sls.listConsumerGroups(r.logstore)).find((g) => g.consumerGroup === group);
    if (!spec) throw new UsageError(`--consumer-group: consumer group "${group}" vanished from logstore ${r.logstore} right after it was created`);
  }
  // A heartbeat that hangs longer than a third of the timeout is as good as lost; the next one is the retry.
  const sls = new SlsClient({ ...r.client, timeoutMs: Math.max(1000, Math.floor((spec.timeout * 1000) / 3)) });
  const member = new ConsumerGroupMember({
    sls,
    engine: r.engine,
    logstore: r.logstore,
    group,
    consumer,
    timeoutSec: spec.timeout,
    initialPosition: r.from,
    log: r.log,
  });
  r.log.info({ group, consumer, timeout: spec.timeout }, 'joining consumer group');
  const running = member.run();
  try {
    await Promise.race([running, r.until]);
  } catch (err) {
    // Not a --cursor the user gave: a checkpoint of the group that SLS refuses (the Logstore was recreated, say).
    if (err instanceof CursorError) throw new Error(`--consumer-group: the checkpoint of shard ${err.shard} in consumer group ${group} is refused by SLS (${err.message}); reset it or use a new group`);
    throw err;
  } finally {
    await member.stop();
    await sls.close();
  }
  await running;
}
