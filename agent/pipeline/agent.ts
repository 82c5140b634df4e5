// The daemon: input → batch → seal (with keys) → ship, with spool and checkpoints beside them.
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Batcher, type PlainBatch } from '../batch/batcher.js';
import { CheckpointStore, SaveScheduler, type FileCheckpoint } from '../checkpoint/index.js';
import { resolveCredentials, type Config } from '../config/index.js';
import { DeadLetterDir } from '../dead-letter/index.js';
import { FileInput, type InputEvent, type InputRun } from '../input/index.js';
import { KmsClient, openIndexKey, type DataKeyCache } from '../keys/index.js';
import { SealPool, cipherFor, ghashBackend } from '../seal/index.js';
import { base64Backend } from '../wire/base64.js';
import { RequestConcurrency, SlsClient, type CompressType } from '../ship/index.js';
import { Spool } from '../spool/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { AgentMetrics } from '../telemetry/metrics.js';
import { DeadLetters } from './dead-letters.js';
import { Delivery } from './delivery.js';
import { KeyGate } from './key-gate.js';
import { ensureLogstores } from './logstores.js';
import { logstoresOf, openOutputs, planOutputs, type Output } from './outputs.js';
import { Positions } from './positions.js';
import { QuietCollector, fullCollection } from './quiet-collector.js';
import { lockStateDir } from './state-lock.js';

export interface AgentStatus {
  state: 'running' | 'holding' | 'draining' | 'stopped';
  linesRead: number;
  linesShipped: number;
  bytesRead: number;
  inFlight: number;
  spoolBytes: number;
  spoolEntries: number;
  /** The data key state of the first output (sls.logstore for configs with one output). */
  key: ReturnType<DataKeyCache['status']>;
  /** Every output with its data key state. */
  outputs: ({ logstore: string; cmk: string } & ReturnType<DataKeyCache['status']>)[];
  holdingReason?: string;
}

const READ_MAX_LOGS = 4096;
const TIMEOUT = Symbol('timeout');

export class Agent {
  private stopping = false;
  private abandoning = false;
  private readonly inFlight = new Set<Promise<void>>();
  private slotWaiter: (() => void) | undefined;
  private pendingRead: Promise<InputRun[]> | undefined;
  private loopDone: Promise<void> | undefined;
  private readonly saver: SaveScheduler;
  /** A full collection once nothing was shipped for a while: the heap a burst grew goes back (quiet-collector.ts). */
  private readonly quiet = new QuietCollector(20_000, fullCollection, Date.now, () => this.batcher.releaseSpares());
  private counters = { linesRead: 0, bytesRead: 0, linesShipped: 0 };

  private constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly metrics: AgentMetrics,
    private readonly input: FileInput,
    private readonly batcher: Batcher,
    private readonly positions: Positions,
    private readonly checkpoints: CheckpointStore,
    private readonly outputs: Output[],
    private readonly keyGate: KeyGate,
    private readonly pool: SealPool,
    private readonly sls: SlsClient,
    private readonly spool: Spool,
    private readonly delivery: Delivery,
    private readonly window: () => number,
    private readonly unlock: () => Promise<void>,
  ) {
    this.saver = new SaveScheduler(
      () => this.checkpoints.save(this.positions.snapshot(this.input.files())),
      (err) => this.log.error({ err: err.message }, 'could not save checkpoints; will retry'),
    );
  }

  static async start(config: Config, log: Logger, metrics: AgentMetrics): Promise<Agent> {
    // An explicit seal.backend this build lacks (the addon was not compiled) fails here, before anything is opened.
    const cipher = cipherFor(config.seal.algorithm, config.seal.backend);
    const stateDir = path.resolve(config.stateDir);
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const unlock = await lockStateDir(stateDir);
    // Everything that can fail on a bad environment happens before threads and watchers exist; on failure what was
    // opened is closed again so the process can exit with its one-line error.
    const opened: (() => Promise<void>)[] = [unlock];
    let spool: Spool, sls: SlsClient, kms: KmsClient, saved: Map<string, FileCheckpoint>, checkpoints: CheckpointStore, deadLetterDir: DeadLetterDir;
    let indexKey: Uint8Array | undefined;
    const { targets, outputOfInput } = planOutputs(config);
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
      deadLetterDir = await DeadLetterDir.open({
        dir: config.deadLetter.dir !== undefined ? path.resolve(config.deadLetter.dir) : path.join(stateDir, 'dead-letter'),
        maxBytes: config.deadLetter.maxBytes,
      });
      sls = new SlsClient({
        endpoint: config.sls.endpoint,
        project: config.sls.project,
        credentials: resolveCredentials(config, 'sls'),
        timeoutMs: config.sls.timeout,
        maxSockets: config.sls.maxInFlight,
        onRetry: (e) => metrics.retries.inc({ service: 'sls', code: e.code }),
      });
      opened.push(() => sls.close());
      if (config.sls.createLogstore) await ensureLogstores(sls, config, logstoresOf(targets), log);
      const kmsCreds = await resolveCredentials(config, 'kms')();
      kms = new KmsClient({
        endpoint: config.kms.endpoint,
        regionId: config.kms.regionId,
        accessKeyId: kmsCreds.accessKeyId,
        accessKeySecret: kmsCreds.accessKeySecret,
        ...(kmsCreds.securityToken ? { securityToken: kmsCreds.securityToken } : {}),
      });
      if (config.seal.index.length > 0) indexKey = await openIndexKey(kms, config.seal.indexKey!, config.sls.project, config.sls.logstore);
    } catch (err) {
      for (const close of opened.reverse()) await close().catch(() => {});
      throw err;
    }
    const outputs = openOutputs(config, targets, {
      generateDataKey: (cmk, n, ctx) => {
        metrics.kmsCalls.inc();
        return kms.generateDataKey(cmk, n, ctx);
      },
    });
    // The pool keeps its own copy of the index key for the seal workers; this one is zeroed at once. The key is
    // sls.logstore's (FORMAT.md binds it to one Logstore): batches for other outputs carry no tokens.
    const pool = new SealPool({
      threads: config.seal.threads,
      backend: config.seal.backend,
      ...(indexKey ? { index: { key: indexKey, fields: config.seal.index, blob: config.seal.indexKey!, logstore: config.sls.logstore } } : {}),
    });
    indexKey?.fill(0);
    const deadLetters = new DeadLetters(deadLetterDir, config.sls.project, metrics, log);
    const concurrency = new RequestConcurrency({ max: config.sls.maxInFlight, adaptive: config.sls.concurrency === 'adaptive' });
    metrics.observeConcurrency(() => concurrency.limit);
    const delivery = new Delivery(sls, spool, deadLetters, metrics, log, concurrency);
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
        format: i.format,
        containerMetadata: i.container.metadata,
        ...(i.ignoreOlder !== undefined ? { ignoreOlderMs: i.ignoreOlder } : {}),
        ...(i.rateLimit ? { rateLimit: i.rateLimit } : {}),
        closeInactiveMs: i.closeInactive,
      })),
      { checkpoints: saved, hostname: os.hostname(), maxOpenFiles: config.maxOpenFiles, onEvent: (e) => logInputEvent(log, e) },
    );
    metrics.observeInputs(() => input.stats());
    const batcher = new Batcher(
      { maxBytes: config.batch.maxBytes, maxLogs: config.batch.maxLogs, lingerMs: config.batch.linger },
      Date.now,
      (input) => outputOfInput[input] ?? 0,
    );
    // Batches between the batcher and their acknowledgement: the requests SLS takes now, and two per seal thread
    // being sealed or waiting for one. A smaller limit means fewer batches read ahead and held in memory.
    const window = () => concurrency.limit + 2 * config.seal.threads;

    const keyGate = new KeyGate(metrics, log);
    const agent = new Agent(config, log, metrics, input, batcher, positions, checkpoints, outputs, keyGate, pool, sls, spool, delivery, window, unlock);
    agent.watchKeys();
    agent.loopDone = agent.loop().catch((err: Error) => {
      log.fatal({ err: err.message }, 'the read loop failed');
      throw err;
    });
    log.info(
      {
        project: config.sls.project,
        logstore: config.sls.logstore,
        ...(outputs.length > 1 || outputs[0]?.logstore !== config.sls.logstore ? { outputs: outputs.map((o) => `${o.logstore} (${o.cmk})`) } : {}),
        algorithm: config.seal.algorithm,
        mode: config.seal.mode,
        ...(config.seal.index.length > 0 ? { indexed: config.seal.index } : {}),
        inputs: config.inputs.length,
        // SM4-GCM's GHASH: 'pclmul' from the native addon, else 'portable' (addon without PCLMULQDQ) or 'js'.
        ...(config.seal.algorithm === 'SM4_128_GCM' ? { ghash: ghashBackend } : {}),
        // The cipher the workers run: 'addon' (SM4 with a hardware S-box), 'native' (node:crypto) or 'js'.
        cipher: cipher.backend,
        // How records are base64-encoded into PutLogs bodies: 'native' (the addon) or 'js' (Buffer, via a string).
        base64: base64Backend,
      },
      'logseal agent started',
    );
    return agent;
  }

  status(): AgentStatus {
    const outputs = this.outputs.map((o) => ({ logstore: o.logstore, cmk: o.cmk, ...o.keys.status() }));
    const holdingReason = this.keyGate.holdingReason;
    return {
      state: this.stopping ? 'draining' : holdingReason ? 'holding' : 'running',
      ...this.counters,
      inFlight: this.inFlight.size,
      spoolBytes: this.spool.bytes,
      spoolEntries: this.spool.count,
      key: this.outputs[0]!.keys.status(),
      outputs,
      ...(holdingReason ? { holdingReason } : {}),
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
    void this.saver.request();
    await this.saver.flush();
    this.saver.close();
    this.quiet.close();
    await this.delivery.close();
    for (const o of this.outputs) o.keys.close();
    await this.pool.close();
    await this.sls.close();
    await this.spool.close();
    await this.unlock();
    this.log.info({ ...this.counters, spoolEntries: this.spool.count }, 'logseal agent stopped');
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      while (this.inFlight.size >= this.window() && !this.stopping) {
        await new Promise<void>((r) => (this.slotWaiter = r));
      }
      if (this.stopping) break;
      // No more than the free slots can take: every full batch is dispatched at once, so a read of many small batches
      // would put more than the window in flight (and all of it would be sent again after a crash).
      this.pendingRead ??= this.input.read(Math.min(READ_MAX_LOGS, (this.window() - this.inFlight.size) * this.config.batch.maxLogs));
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
    let resent = 0;
    for (const run of runs) {
      this.positions.read(run.fileId, run.count);
      resent += this.positions.resent(run);
      lines += run.count;
      bytes += run.offsets[run.count - 1] - run.startOffset;
      for (const b of this.batcher.add(run)) this.dispatch(b);
    }
    this.counters.linesRead += lines;
    this.counters.bytesRead += bytes;
    this.metrics.linesRead.inc(lines);
    this.metrics.bytesRead.inc(bytes);
    if (resent > 0) this.metrics.linesResent.inc(resent);
  }

  private dispatch(batch: PlainBatch): void {
    this.positions.dispatched(batch);
    // Records the read position (for the resent-lines count after a crash) now that these lines are on their way to
    // SLS: under steady load the save after the next acknowledgement does it; only without one is a write made for it.
    this.saver.requestSoon();
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
    const output = this.outputs[batch.output]!;
    const key = await this.keyGate.keyFor(output, logCount, batch.bytes, () => this.abandoning);
    if (!key) return; // abandoned at shutdown: not acknowledged, so read again after restart
    const sealed = await this.pool.seal({
      encoded: batch.encoded, // moved to the worker thread
      logCount,
      key,
      target: { project: this.config.sls.project, logstore: output.logstore, mode: this.config.seal.mode, zip: this.config.seal.zip },
      compressType: bodyCompression(this.config),
    });
    this.batcher.recycle(sealed.spare);
    this.metrics.batchesSealed.inc({ algorithm: this.config.seal.algorithm });
    const outcome = await this.delivery.deliver({ logstore: output.logstore, payload: sealed.payload, logCount });
    // Acknowledged: nothing reads the body any more, and its memory may take a later batch's body. A spooled body
    // stays where it is (the spool keeps recent ones in memory to replay them), and so does a dead-lettered one.
    if (outcome === 'shipped') sealed.release?.();
    this.positions.acknowledged(batch);
    this.counters.linesShipped += logCount;
    this.quiet.activity();
    // Saved right away (coalesced), and the batch keeps its in-flight slot until that save is on disk: a crash then
    // sends again at most the batches of the in-flight window.
    await this.saver.request();
  }

  private watchKeys(): void {
    for (const o of this.outputs) o.keys.on('rotated', () => this.log.debug({ logstore: o.logstore }, 'data key rotated'));
    this.metrics.observeAgent({
      checkpointLagBytes: () => this.positions.lag(this.input.files()),
      // The oldest key in use: the one closest to its rotation deadline.
      dataKeyAgeSeconds: () => {
        const ages = this.outputs.map((o) => o.keys.status().keyAgeMs).filter((a): a is number => a !== undefined);
        return ages.length > 0 ? Math.max(...ages) / 1000 : undefined;
      },
    });
  }
}

/**
 * Sealed, LZ4-compressed plaintext is incompressible: compressing the body again costs CPU for ~0.4 % fewer bytes.
 * So are the records of mode `log` (base64 of ciphertext): LZ4 takes ~13 % of a seal worker's time there for ~3 %
 * fewer bytes (native-bench/RESULTS.md §6). Only mode `group` without zip has plaintext structure left to compress.
 */
export function bodyCompression(config: Config): CompressType {
  if (config.sls.compress !== 'auto') return config.sls.compress;
  return config.seal.mode === 'group' && config.seal.zip === 'none' ? 'lz4' : 'none';
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
