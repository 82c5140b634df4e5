// A member of an SLS consumer group: heartbeats, runs the shards SLS assigns on the decrypt engine, commits checkpoints after output.
import type { Logger } from '../telemetry/logger.js';
import { ConsumerGroupErrorCode, SlsError, type SlsClient } from '../ship/index.js';

/** What the member needs of the decrypt engine. */
export interface ShardEngine {
  /** `onWritten(next)`: everything before `next` has been written to the output. No `to`: follow the shard. */
  startShard(o: { logstore: string; shard: number; from: string; to?: string }, onWritten?: (nextCursor: string) => void): unknown;
  /** Stops pulling, lets what was pulled be written, resolves the last written cursor. */
  stopShard(shard: number): Promise<string | undefined>;
}

export type ConsumerGroupApi = Pick<SlsClient, 'heartbeat' | 'updateCheckpoint' | 'getCheckpoints' | 'getCursor'>;

export interface ConsumerGroupMemberOptions {
  sls: ConsumerGroupApi;
  engine: ShardEngine;
  logstore: string;
  group: string;
  consumer: string;
  /** The group's timeout in seconds: silent this long, SLS gives the member's shards to others. */
  timeoutSec: number;
  /** Default: a third of the timeout, so two heartbeats may fail before SLS drops the member. */
  heartbeatMs?: number;
  /** Checkpoints of a shard are committed at most this often (the last one on release and on stop). Default 1 s. */
  commitMs?: number;
  /** Where a shard without a checkpoint starts. Default `begin`. */
  initialPosition?: 'begin' | 'end' | number;
  log?: Pick<Logger, 'info' | 'warn'>;
}

/** The group is gone (deleted while running): nothing more can be read or committed through it. */
export class ConsumerGroupGoneError extends Error {
  override readonly name = 'ConsumerGroupGoneError';
}

interface ShardState {
  /** Start, commits and stop of one shard run one after another. */
  chain: Promise<void>;
  stopping: boolean;
  /** The cursor everything before which has been written. */
  written?: string;
  committed?: string;
}

const NO_LONGER_HELD = new Set<string>([ConsumerGroupErrorCode.consumerNotMatch, ConsumerGroupErrorCode.consumerNotExist, ConsumerGroupErrorCode.shardNotExist]);

export class ConsumerGroupMember {
  private readonly shards = new Map<number, ShardState>();
  private readonly heartbeatMs: number;
  private readonly commitMs: number;
  private stopping = false;
  private wake: (() => void) | undefined;
  private fatal: Error | undefined;
  private loop: Promise<void> | undefined;
  private commitTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ConsumerGroupMemberOptions) {
    this.heartbeatMs = o.heartbeatMs ?? Math.max(100, Math.floor((o.timeoutSec * 1000) / 3));
    this.commitMs = o.commitMs ?? 1000;
  }

  /** Shards this member runs now (including ones being started or stopped). */
  held(): number[] {
    return [...this.shards.keys()].sort((a, b) => a - b);
  }

  /** Joins the group. The promise ends when `stop()` has finished, or rejects when the member cannot go on. */
  run(): Promise<void> {
    this.loop ??= this.heartbeatLoop();
    this.commitTimer = setInterval(() => this.commitAll(), this.commitMs);
    this.commitTimer.unref();
    return this.loop;
  }

  /** Stops every shard and commits where each one's output ends. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop?.catch(() => undefined);
  }

  private async heartbeatLoop(): Promise<void> {
    let lastOk = Date.now();
    try {
      while (!this.stopping) {
        try {
          const answer = await this.o.sls.heartbeat(this.o.logstore, this.o.group, this.o.consumer, this.held());
          lastOk = Date.now();
          this.apply(answer);
        } catch (err) {
          if (!(err instanceof SlsError)) throw err;
          if (err.code === ConsumerGroupErrorCode.groupNotExist) {
            throw new ConsumerGroupGoneError(`--consumer-group: consumer group ${this.o.group} of logstore ${this.o.logstore} no longer exists`);
          }
          if (err.code === ConsumerGroupErrorCode.consumerWithBody) {
            // SLS dropped this member (silent past the timeout): its shards may be read by others already.
            this.o.log?.warn({ consumer: this.o.consumer, held: this.held() }, 'dropped from the consumer group; letting go of every shard and joining again');
            await this.releaseAll();
            continue;
          }
          this.o.log?.warn({ err: err.message }, 'consumer group heartbeat failed');
          if (Date.now() - lastOk > this.o.timeoutSec * 1000) await this.releaseAll();
        }
        await this.pause(this.heartbeatMs);
      }
    } catch (err) {
      this.fatal = err as Error;
    } finally {
      if (this.commitTimer) clearInterval(this.commitTimer);
      // Heartbeats stop here: SLS hands the shards to the others once the group's timeout has passed (there is
      // no call to leave a group; an empty heartbeat would only be answered with shards again).
      await this.releaseAll();
    }
    if (this.fatal) throw this.fatal;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private apply(answer: number[]): void {
    const assigned = new Set(answer);
    const added = answer.filter((s) => !this.shards.has(s));
    const removed = this.held().filter((s) => !assigned.has(s) && !this.shards.get(s)!.stopping);
    if (added.length > 0 || removed.length > 0) this.o.log?.info({ consumer: this.o.consumer, added, removed }, 'consumer group assignment changed');
    for (const shard of added) this.start(shard);
    for (const shard of removed) void this.release(shard);
  }

  private start(shard: number): void {
    const state: ShardState = { chain: Promise.resolve(), stopping: false };
    this.shards.set(shard, state);
    state.chain = (async () => {
      try {
        const [saved] = await this.o.sls.getCheckpoints(this.o.logstore, this.o.group, shard);
        let from = saved?.checkpoint ?? '';
        if (from) state.committed = from;
        else from = await this.o.sls.getCursor(this.o.logstore, shard, this.o.initialPosition ?? 'begin');
        await this.o.engine.startShard({ logstore: this.o.logstore, shard, from }, (next) => (state.written = next));
      } catch (err) {
        // Not listing it in the next heartbeat gives it back to SLS, which offers it again.
        this.o.log?.warn({ shard, err: (err as Error).message }, 'could not start shard');
        this.shards.delete(shard);
      }
    })();
  }

  /** Stops the shard, commits where its output ends, and only then stops listing it. */
  private release(shard: number): Promise<void> {
    const state = this.shards.get(shard);
    if (!state) return Promise.resolve();
    if (state.stopping) return state.chain;
    state.stopping = true;
    state.chain = state.chain.then(async () => {
      if (this.shards.get(shard) !== state) return;
      try {
        const last = await this.o.engine.stopShard(shard);
        if (last !== undefined) state.written = last;
        await this.commit(shard, state);
      } catch (err) {
        this.o.log?.warn({ shard, err: (err as Error).message }, 'could not stop shard cleanly');
      } finally {
        this.shards.delete(shard);
      }
    });
    return state.chain;
  }

  private async releaseAll(): Promise<void> {
    await Promise.all(this.held().map((s) => this.release(s)));
  }

  private commitAll(): void {
    for (const [shard, state] of this.shards) {
      if (state.stopping || state.written === undefined || state.written === state.committed) continue;
      state.chain = state.chain.then(() => this.commit(shard, state).catch(() => undefined));
    }
  }

  private async commit(shard: number, state: ShardState): Promise<void> {
    const cursor = state.written;
    if (cursor === undefined || cursor === state.committed) return;
    try {
      await this.o.sls.updateCheckpoint(this.o.logstore, this.o.group, { consumer: this.o.consumer, shard, checkpoint: cursor });
      state.committed = cursor;
    } catch (err) {
      if (err instanceof SlsError && NO_LONGER_HELD.has(err.code)) {
        // Someone else holds it now and continues from the last checkpoint; keeping on would only print duplicates.
        this.o.log?.warn({ shard, code: err.code }, 'shard is held by another consumer now; letting go');
        if (!state.stopping) void this.release(shard);
        return;
      }
      this.o.log?.warn({ shard, err: (err as Error).message }, 'could not commit checkpoint');
      throw err;
    }
  }
}
