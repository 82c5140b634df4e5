// The daemon: input → batch → seal (with keys) → ship, with spool and checkpoints beside them.
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Batcher, type PlainBatch } from '../batch/batcher.js';
import { CheckpointStore, type FileCheckpoint } from '../checkpoint/index.js';
import { resolveCredentials, type Config } from '../config/index.js';
import { FileInput, type InputEvent, type InputRun } from '../input/index.js';
import { DataKeyCache, KmsClient, KmsError, encryptionContext, type DataKey } from '../keys/index.js';
import { SealPool, ghashBackend } from '../seal/index.js';
import { base64Backend } from '../wire/base64.js';
import { SlsClient, SlsError } from '../ship/index.js';
import { Spool } from '../spool/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { AgentMetrics } from '../telemetry/metrics.js';
import { Delivery } from './delivery.js';
import { Positions } from './positions.js';
import { lockStateDir } from './state-lock.js';

export interface AgentStatus {
  state: 'running' | 'holding' | 'draining' | 'stopped';
  linesRead: number;
  linesShipped: number;
  bytesRead: number;
  inFlight: number;
  spoolBytes: number;
  spoolEntries: number;
  key: ReturnType<DataKeyCache['status']>;
  holdingReason?: string;
}

const READ_MAX_LOGS = 4096;
const CHECKPOINT_INTERVAL_MS = 1000;
const KEY_RETRY_MS = 2000;
const TIMEOUT = Symbol('timeout');

export class Agent {
  private stopping = false;
  private abandoning = false;
  private readonly inFlight = new Set<Promise<void>>();
  private slotWaiter: (() => void) | undefined;
  private pendingRead: Promise<InputRun[]> | undefined;
  private loopDone: Promise<void> | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;
  private holdingReason: string | undefined;
  private counters = { linesRead: 0, bytesRead: 0, linesShipped: 0 };

  private constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly metrics: AgentMetrics,
    private readonly input: FileInput,
    private readonly batcher: Batcher,
    private readonly positions: Positions,
    private readonly checkpoints: CheckpointStore,
    private readonly keys: DataKeyCache,
    private readonly pool: SealPool,
    private readonly sls: SlsClient,
    private readonly spool: Spool,
    private readonly delivery: Delivery,
    private readonly window: number,
    private readonly unlock: () => Promise<void>,
  ) {}

  static async start(config: Config, log: Logger, metrics: AgentMetrics): Promise<Agent> {
    const stateDir = path.resolve(config.stateDir);
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const unlock = await lockStateDir(stateDir);
    // Everything that can fail on a bad environment happens before threads and watchers exist; on failure what was
    // opened is closed again so the process can exit with its one-line error.
    const opened: (() => Promise<void>)[] = [unlock];
    let spool: Spool, sls: SlsClient, kms: KmsClient, saved: Map<string, FileCheckpoint>, checkpoints: CheckpointStore;
    try {
      checkpoints = new CheckpointStore(path.join(stateDir, 'checkpoints.json'), {
        onRecovered: (corruptCopy, reason) =>
          log.error({ corruptCopy, reason }, 'checkpoint file was damaged; resumed from the previous version (some lines may be sent again)'),
      });
      saved = await checkpoints.load();
      spool = await Spool.open({
        dir: path.join(stateDir, 'spool'),
        maxBytes: config.spool.maxBytes,
        onCorrupt: (file, reason) => log.error({ file, reason }, 'spool entry failed its checksum; moved to spool/corrupt'),
      });
      opened.push(() => spool.close());
      sls = new SlsClient({
        endpoint: config.sls.endpoint,
        project: config.sls.project,
        credentials: resolveCredentials(config, 'sls'),
        timeoutMs: config.sls.timeout,
        maxSockets: config.sls.maxInFlight,
        onRetry: (e) => metrics.retries.inc({ service: 'sls', code: e.code }),
      });
      opened.push(() => sls.close());
      if (config.sls.createLogstore) await ensureLogstore(sls, config, log);
      const kmsCreds = await resolveCredentials(config, 'kms')();
      kms = new KmsClient({
        endpoint: config.kms.endpoint,
        regionId: config.kms.regionId,
        accessKeyId: kmsCreds.accessKeyId,
        accessKeySecret: kmsCreds.accessKeySecret,
        ...(kmsCreds.securityToken ? { securityToken: kmsCreds.securityToken } : {}),
      });
    } catch (err) {
      for (const close of opened.reverse()) await close().catch(() => {});
      throw err;
    }
    const keys = new DataKeyCache({
      kms: {
        generateDataKey: (cmk, n, ctx) => {
          metrics.kmsCalls.inc();
          return kms.generateDataKey(cmk, n, ctx);
        },
      },
      cmk: config.kms.cmk,
      algorithm: config.seal.algorithm,
      context: encryptionContext(config.sls.project, config.sls.logstore),
      rotate: { maxAgeMs: config.seal.rotate.maxAge, maxRecords: config.seal.rotate.maxRecords, maxBytes: config.seal.rotate.maxBytes },
    });
    const pool = new SealPool({ threads: config.seal.threads, backend: config.seal.backend });
    const delivery = new Delivery(sls, spool, config.sls.logstore, metrics, log);
    const positions = new Positions(saved);
    const input = new FileInput(
      config.inputs.map((i) => ({
        paths: i.paths,
        exclude: i.exclude,
        topic: i.topic,
        ...(i.source !== undefined ? { source: i.source } : {}),
        parser: i.parser,
        startAt: i.startAt,
        ...(i.multiline
          ? { multiline: { startPattern: i.multiline.startPattern, flushTimeoutMs: i.multiline.flushTimeout, ...(i.multiline.maxLines ? { maxLines: i.multiline.maxLines } : {}) } }
          : {}),
        maxLineBytes: i.maxLineBytes,
        fields: i.fields,
        tags: i.tags,
        closeInactiveMs: i.closeInactive,
      })),
      { checkpoints: saved, hostname: os.hostname(), maxOpenFiles: config.maxOpenFiles, onEvent: (e) => logInputEvent(log, e) },
    );
    const batcher = new Batcher({ maxBytes: config.batch.maxBytes, maxLogs: config.batch.maxLogs, lingerMs: config.batch.linger });
    const window = config.sls.maxInFlight + 2 * config.seal.threads;

    const agent = new Agent(config, log, metrics, input, batcher, positions, checkpoints, keys, pool, sls, spool, delivery, window, unlock);
    agent.watchKeys();
    agent.loopDone = agent.loop().catch((err: Error) => {
      log.fatal({ err: err.message }, 'the read loop failed');
      throw err;
    });
    agent.checkpointTimer = setInterval(() => agent.saveCheckpoints(), CHECKPOINT_INTERVAL_MS);
    agent.checkpointTimer.unref();
    log.info(
      {
        project: config.sls.project,
        logstore: config.sls.logstore,
        algorithm: config.seal.algorithm,
        mode: config.seal.mode,
        inputs: config.inputs.length,
        // SM4-GCM's GHASH: 'pclmul' from the native addon, else 'portable' (addon without PCLMULQDQ) or 'js'.
        ...(config.seal.algorithm === 'SM4_128_GCM' ? { ghash: ghashBackend } : {}),
        // How records are base64-encoded into PutLogs bodies: 'native' (the addon) or 'js' (Buffer, via a string).
        base64: base64Backend,
      },
      'logseal agent started',
    );
    return agent;
  }

  status(): AgentStatus {
    const key = this.keys.status();
    return {
      state: this.stopping ? 'draining' : this.holdingReason ? 'holding' : 'running',
      ...this.counters,
      inFlight: this.inFlight.size,
      spoolBytes: this.spool.bytes,
      spoolEntries: this.spool.count,
      key,
      ...(this.holdingReason ? { holdingReason: this.holdingReason } : {}),
    };
  }

  /** Stops reading, ships what was read within the drain timeout, saves checkpoints, releases everything. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.slotWaiter?.();
    await this.input.close();
    await this.loopDone?.catch(() => {});
    for (const b of this.batcher.flushAll()) this.dispatch(b);
    // Draining ships (or spools) what was read; batches already in the spool are safe on disk and are not waited for.
    const drained = await Promise.race([
      Promise.all(this.inFlight).then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), this.config.drain.timeout).unref()),
    ]);
    if (!drained) {
      this.abandoning = true;
      this.log.warn({ inFlight: this.inFlight.size }, 'drain timeout: unacknowledged lines will be read again at the next start');
    }
    clearInterval(this.checkpointTimer);
    this.saveCheckpoints(true);
    await this.saving;
    await this.delivery.close();
    this.keys.close();
    await this.pool.close();
    await this.sls.close();
    await this.spool.close();
    await this.unlock();
    this.log.info({ ...this.counters, spoolEntries: this.spool.count }, 'logseal agent stopped');
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      while (this.inFlight.size >= this.window && !this.stopping) {
        await new Promise<void>((r) => (this.slotWaiter = r));
      }
      if (this.stopping) break;
      this.pendingRead ??= this.input.read(READ_MAX_LOGS);
      const wait = this.batcher.msUntilDue();
      const got = wait === undefined ? await this.pendingRead : await raceTimeout(this.pendingRead, wait);
      if (got !== TIMEOUT) {
        this.pendingRead = undefined;
        if (got.length === 0 && this.stopping) break;
        this.accept(got);
      }
      for (const b of this.batcher.due()) this.dispatch(b);
    }
  }

  private accept(runs: InputRun[]): void {
    let lines = 0;
    let bytes = 0;
    for (const run of runs) {
      this.positions.read(run.fileId, run.count);
      lines += run.count;
      bytes += run.offsets[run.count - 1] - run.startOffset;
      for (const b of this.batcher.add(run)) this.dispatch(b);
    }
    this.counters.linesRead += lines;
    this.counters.bytesRead += bytes;
    this.metrics.linesRead.inc(lines);
    this.metrics.bytesRead.inc(bytes);
  }

  private dispatch(batch: PlainBatch): void {
    this.positions.dispatched(batch);
    const task = this.process(batch).finally(() => {
      this.inFlight.delete(task);
      this.metrics.inFlight.set(this.inFlight.size);
      const wake = this.slotWaiter;
      this.slotWaiter = undefined;
      wake?.();
    });
    this.inFlight.add(task);
    this.metrics.inFlight.set(this.inFlight.size);
  }

  private async process(batch: PlainBatch): Promise<void> {
    const { logCount } = batch;
    const key = await this.keyFor(logCount, batch.bytes);
    if (!key) return; // abandoned at shutdown: not acknowledged, so read again after restart
    const sealed = await this.pool.seal({
      encoded: batch.encoded, // moved to the worker thread
      logCount,
      key,
      target: { project: this.config.sls.project, logstore: this.config.sls.logstore, mode: this.config.seal.mode, zip: this.config.seal.zip },
      compressType: bodyCompression(this.config),
    });
    this.batcher.recycle(sealed.spare);
    this.metrics.batchesSealed.inc({ algorithm: this.config.seal.algorithm });
    await this.delivery.deliver({ payload: sealed.payload, logCount });
    this.positions.acknowledged(batch);
    this.counters.linesShipped += logCount;
    this.dirty = true;
  }

  /** Waits for a usable data key; while there is none the batch is held in memory (never sealed under a stale key). */
  private async keyFor(records: number, bytes: number): Promise<DataKey | undefined> {
    for (;;) {
      try {
        const key = await this.keys.acquire(records, bytes);
        this.keyUsable();
        return key;
      } catch (err) {
        if (!(err instanceof KmsError)) throw err;
        this.keyUnusable(err);
        if (this.abandoning) return undefined;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, KEY_RETRY_MS);
          const keys = this.keys;
          function done(): void {
            clearTimeout(timer);
            keys.off('restored', done);
            resolve();
          }
          keys.once('restored', done);
        });
      }
    }
  }

  private keyUnusable(err: KmsError): void {
    this.metrics.keyUnavailable.set(1);
    const reason = `${err.code}: ${err.message}`;
    if (this.holdingReason !== reason) {
      this.holdingReason = reason;
      this.log.error(
        { code: err.code, cmk: this.config.kms.cmk, cmkUnusable: err.cmkUnusable },
        err.cmkUnusable
          ? 'the CMK cannot issue data keys: holding all data (nothing is sealed or written) until the key is usable again'
          : 'no data key available from KMS: holding all data until KMS answers',
      );
    }
  }

  private keyUsable(): void {
    if (this.holdingReason === undefined) return;
    this.holdingReason = undefined;
    this.metrics.keyUnavailable.set(0);
    this.log.info({ cmk: this.config.kms.cmk }, 'data keys available again: resuming');
  }

  private watchKeys(): void {
    this.keys.on('rotated', () => this.log.debug('data key rotated'));
    const refresh = setInterval(() => {
      const s = this.keys.status();
      if (s.keyAgeMs !== undefined) this.metrics.dataKeyAge.set(s.keyAgeMs / 1000);
      this.metrics.checkpointLag.set(this.positions.lag(this.input.files()));
    }, 1000);
    refresh.unref();
  }

  private saveCheckpoints(force = false): void {
    if (!this.dirty && !force) return;
    this.dirty = false;
    const snapshot = this.positions.snapshot(this.input.files());
    this.saving = this.saving
      .then(() => this.checkpoints.save(snapshot))
      .catch((err: Error) => {
        this.dirty = true;
        this.log.error({ err: err.message }, 'could not save checkpoints; will retry');
      });
  }
}

/** Sealed, LZ4-compressed plaintext is incompressible: compressing the body again costs CPU for ~0.4 % fewer bytes. */
export function bodyCompression(config: Config): 'lz4' | 'deflate' | 'none' {
  if (config.sls.compress !== 'auto') return config.sls.compress;
  return config.seal.mode === 'group' && config.seal.zip === 'lz4' ? 'none' : 'lz4';
}

async function ensureLogstore(sls: SlsClient, config: Config, log: Logger): Promise<void> {
  const spec = config.sls.createLogstore!;
  try {
    await sls.getLogstore(config.sls.logstore);
    return;
  } catch (err) {
    if (err instanceof SlsError && err.retryable) {
      // SLS being down must not stop the agent: batches spool until it is back (and the Logstore is then there).
      log.warn({ code: err.code }, 'could not check the logstore at start-up; continuing, batches will spool until SLS answers');
      return;
    }
    if (!(err instanceof SlsError) || err.code !== 'LogStoreNotExist') throw err;
  }
  await sls.createLogstore({
    logstoreName: config.sls.logstore,
    ttl: spec.ttl,
    shardCount: spec.shardCount,
    ...(spec.encrypt_conf ? { encrypt_conf: spec.encrypt_conf } : {}),
  });
  log.info({ logstore: config.sls.logstore, encrypted: spec.encrypt_conf?.enable ?? false }, 'created logstore');
}

function logInputEvent(log: Logger, e: InputEvent): void {
  if (e.type === 'error') log.warn({ path: e.path, reason: e.message }, 'input problem');
  else log.info({ path: e.path, fileId: e.fileId }, `file ${e.type}`);
}

function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(TIMEOUT), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
