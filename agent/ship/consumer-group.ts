// Consumer groups as the SLS JSON API spells them: settings, checkpoints, the error codes a member acts on.

export interface ConsumerGroupSpec {
  consumerGroup: string;
  /** Seconds without a heartbeat after which SLS drops a consumer and hands its shards to the others. */
  timeout: number;
  /** Read a shard's data before the data of the shards split from it. */
  order: boolean;
}

export interface GroupCheckpoint {
  shard: number;
  /** The cursor to continue from; "" when none was committed. */
  checkpoint: string;
  /** Microseconds since the epoch. */
  updateTime: number;
  consumer: string;
}

/** The SLS error codes of consumer group calls (the service spells `ConsumerNotExsit` so). */
export const ConsumerGroupErrorCode = {
  groupNotExist: 'ConsumerGroupNotExist',
  groupAlreadyExist: 'ConsumerGroupAlreadyExist',
  /** A heartbeat listing shards from a consumer SLS does not know (it timed out): join again with none. */
  consumerWithBody: 'NotExistConsumerWithBody',
  consumerNotExist: 'ConsumerNotExsit',
  /** The shard is held by another consumer now. */
  consumerNotMatch: 'ConsumerNotMatch',
  shardNotExist: 'ShardNotExist',
} as const;

/** ListConsumerGroup answers `[{name, timeout, order}]`; undefined when the answer is not that. */
export function parseGroupList(json: unknown): ConsumerGroupSpec[] | undefined {
  if (!Array.isArray(json)) return undefined;
  const out: ConsumerGroupSpec[] = [];
  for (const g of json) {
    if (typeof g !== 'object' || g === null || typeof g.name !== 'string' || typeof g.timeout !== 'number') return undefined;
    out.push({ consumerGroup: g.name, timeout: g.timeout, order: g.order === true });
  }
  return out;
}

export function parseShardIds(json: unknown): number[] | undefined {
  return Array.isArray(json) && json.every((s) => Number.isInteger(s)) ? (json as number[]) : undefined;
}

export function parseCheckpoints(json: unknown): GroupCheckpoint[] | undefined {
  if (!Array.isArray(json)) return undefined;
  const out: GroupCheckpoint[] = [];
  for (const c of json) {
    if (typeof c !== 'object' || c === null || !Number.isInteger(c.shard) || typeof c.checkpoint !== 'string') return undefined;
    out.push({ shard: c.shard, checkpoint: c.checkpoint, updateTime: typeof c.updateTime === 'number' ? c.updateTime : 0, consumer: typeof c.consumer === 'string' ? c.consumer : '' });
  }
  return out;
}
