// The consumer groups of one logstore: definitions and checkpoints kept on disk, members and shard ownership in memory.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { balanceShards } from './consumer-group-balance.js';
import { writeFileDurably } from './durable-file.js';
import { SlsApiError } from './errors.js';

const FILE = 'consumergroups.json';
const GROUP_NAME = /^[a-z0-9][a-z0-9_-]{0,126}[a-z0-9]$/;
const MAX_TIMEOUT_S = 86_400;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface ConsumerGroupSettings {
  timeout: number;
  order: boolean;
}

interface StoredCheckpoint {
  checkpoint: string;
  /** Microseconds since the epoch, as the service reports it. */
  updateTime: number;
  consumer: string;
}

interface StoredGroup extends ConsumerGroupSettings {
  checkpoints: Record<string, StoredCheckpoint>;
}

interface Member {
  lastSeenMs: number;
}

/** A group with what only lives in memory: who is alive and which shard each one was handed. */
interface Group {
  stored: StoredGroup;
  members: Map<string, Member>;
  owners: Map<number, string>;
}

export interface CheckpointEntry {
  shard: number;
  checkpoint: string;
  updateTime: number;
  consumer: string;
}

function invalidJson(detail: string): SlsApiError {
  return new SlsApiError('JsonInfoInvalid', detail);
}

function readSettings(body: unknown, partial: boolean): Partial<ConsumerGroupSettings> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidJson('the body must be a JSON object.');
  const o = body as Record<string, unknown>;
  const out: Partial<ConsumerGroupSettings> = {};
  if (o.timeout !== undefined || !partial) {
    if (typeof o.timeout !== 'number' || !Number.isInteger(o.timeout) || o.timeout < 1 || o.timeout > MAX_TIMEOUT_S) {
      throw invalidJson(`timeout must be whole seconds from 1 to ${MAX_TIMEOUT_S}.`);
    }
    out.timeout = o.timeout;
  }
  if (o.order !== undefined) {
    if (typeof o.order !== 'boolean') throw invalidJson('order must be true or false.');
    out.order = o.order;
  }
  return out;
}

export class ConsumerGroups {
  private readonly groups = new Map<string, Group>();
  /** Changes made / changes on disk: a change is acknowledged once `written` reaches its number. */
  private version = 0;
  private written = 0;
  private writing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly shardIds: readonly number[],
    private readonly now: () => number,
  ) {}

  /** Reads the groups persisted in `dir`; `now` is the clock of heartbeats and timeouts (milliseconds). */
  static async load(dir: string, shardIds: readonly number[], now: () => number = Date.now): Promise<ConsumerGroups> {
    const store = new ConsumerGroups(dir, shardIds, now);
    let raw: string | undefined;
    try {
      raw = await readFile(join(dir, FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (raw !== undefined) {
      const saved = JSON.parse(raw) as { version: 1; groups: Record<string, StoredGroup> };
      for (const [name, stored] of Object.entries(saved.groups)) store.groups.set(name, { stored, members: new Map(), owners: new Map() });
    }
    return store;
  }

  list(): { name: string; timeout: number; order: boolean }[] {
    return [...this.groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, g]) => ({ name, timeout: g.stored.timeout, order: g.stored.order }));
  }

  async create(body: unknown): Promise<void> {
    const name = (body as { consumerGroup?: unknown } | null)?.consumerGroup;
    if (typeof name !== 'string' || !GROUP_NAME.test(name)) {
      throw invalidJson('consumerGroup must be 2-128 characters of a-z, 0-9, "_" and "-", starting and ending with a letter or digit.');
    }
    const settings = readSettings(body, false);
    if (this.groups.has(name)) throw new SlsApiError('ConsumerGroupAlreadyExist', `consumer group ${name} already exists.`);
    this.groups.set(name, { stored: { timeout: settings.timeout!, order: settings.order ?? false, checkpoints: {} }, members: new Map(), owners: new Map() });
    await this.persist();
  }

  async update(name: string, body: unknown): Promise<void> {
    const group = this.group(name);
    Object.assign(group.stored, readSettings(body, true));
    await this.persist();
  }

  async delete(name: string): Promise<void> {
    this.group(name);
    this.groups.delete(name);
    await this.persist();
  }

  /**
   * `held` is every shard the consumer still works on. A consumer that is not a member joins with an empty list;
   * one that lists shards was dropped (timed out) and must let them go first. A shard it owned and no longer
   * lists is free. The answer is what it should hold: shards it keeps, plus free shards the balance gives it.
   * A shard the balance moves to it while another member still lists it is withheld until that member lets go
   * or times out, so no two live members ever hold one shard.
   */
  heartbeat(name: string, consumer: string, held: unknown): number[] {
    const group = this.group(name);
    if (!Array.isArray(held) || !held.every((s) => Number.isInteger(s))) throw invalidJson('the heartbeat body must be a JSON array of shard ids.');
    this.expire(group);
    const listed = new Set(held as number[]);
    let member = group.members.get(consumer);
    if (!member) {
      if (listed.size > 0) throw new SlsApiError('NotExistConsumerWithBody', `consumer ${consumer} is not in consumer group ${name}; join with an empty shard list.`);
      member = { lastSeenMs: 0 };
      group.members.set(consumer, member);
    }
    member.lastSeenMs = this.now();
    for (const [shard, owner] of group.owners) if (owner === consumer && !listed.has(shard)) group.owners.delete(shard);
    const target = balanceShards(this.shardIds, group.owners, [...group.members.keys()]).get(consumer) ?? [];
    for (const shard of target) if (!group.owners.has(shard)) group.owners.set(shard, consumer);
    return target.filter((shard) => group.owners.get(shard) === consumer);
  }

  /**
   * A member may set the checkpoint of a shard it holds. With forceSuccess it may also set one nobody holds;
   * without a consumer (forceSuccess only) anything goes. A shard another member holds is never overwritten.
   */
  async updateCheckpoint(name: string, consumer: string | undefined, forceSuccess: boolean, body: unknown): Promise<void> {
    const group = this.group(name);
    const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const shard = o.shard;
    const checkpoint = o.checkpoint;
    if (typeof shard !== 'number' || !Number.isInteger(shard)) throw invalidJson('shard must be a shard id.');
    if (!this.shardIds.includes(shard)) throw new SlsApiError('ShardNotExist', `shard ${shard} does not exist.`);
    if (typeof checkpoint !== 'string' || !BASE64.test(checkpoint)) throw new SlsApiError('InvalidShardCheckPoint', 'shard checkpoint not encoded by base64.');
    this.expire(group);
    if (consumer === undefined) {
      if (!forceSuccess) throw new SlsApiError('ParameterInvalid', 'consumer is required unless forceSuccess is true.');
    } else {
      if (!group.members.has(consumer)) throw new SlsApiError('ConsumerNotExsit', `consumer ${consumer} does not exist in consumer group ${name}.`);
      const owner = group.owners.get(shard);
      if (owner !== consumer && (owner !== undefined || !forceSuccess)) {
        throw new SlsApiError('ConsumerNotMatch', `shard ${shard} is not held by consumer ${consumer}.`);
      }
    }
    group.stored.checkpoints[String(shard)] = { checkpoint, updateTime: this.now() * 1000, consumer: consumer ?? '' };
    await this.persist();
  }

  /** One entry per shard (or for `shard` only; none when it does not exist); `checkpoint` is "" where none was set. */
  checkpoints(name: string, shard?: number): CheckpointEntry[] {
    const group = this.group(name);
    const ids = shard === undefined ? this.shardIds : this.shardIds.filter((s) => s === shard);
    return ids.map((s) => {
      const c = group.stored.checkpoints[String(s)];
      return { shard: s, checkpoint: c?.checkpoint ?? '', updateTime: c?.updateTime ?? 0, consumer: c?.consumer ?? '' };
    });
  }

  /** Waits for the last write; later calls fail as the logstore is gone. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing?.catch(() => undefined);
  }

  private group(name: string): Group {
    if (this.closed) throw new SlsApiError('LogStoreNotExist', 'the logstore was deleted.');
    const group = this.groups.get(name);
    if (!group) throw new SlsApiError('ConsumerGroupNotExist', `consumer group ${name} does not exist.`);
    return group;
  }

  /** A member silent for longer than the group's timeout is dropped and its shards are free. */
  private expire(group: Group): void {
    const deadline = this.now() - group.stored.timeout * 1000;
    for (const [consumer, m] of group.members) {
      if (m.lastSeenMs >= deadline) continue;
      group.members.delete(consumer);
      for (const [shard, owner] of group.owners) if (owner === consumer) group.owners.delete(shard);
    }
  }

  /** Resolves once the current state is on disk; changes that arrive during a write share the next one. */
  private async persist(): Promise<void> {
    const mine = ++this.version;
    while (this.written < mine) {
      this.writing ??= this.writeNow().finally(() => (this.writing = undefined));
      await this.writing;
    }
  }

  private async writeNow(): Promise<void> {
    const version = this.version;
    const groups: Record<string, StoredGroup> = {};
    for (const [name, g] of this.groups) groups[name] = g.stored;
    await writeFileDurably(this.dir, FILE, JSON.stringify({ version: 1, groups }));
    this.written = version;
  }
}
