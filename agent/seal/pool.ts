// A pool that seals batches and prepares their PutLogs bodies, with a bounded queue for back-pressure: on the main
// thread while sealing takes a small share of it, on worker threads (started on demand) once the load grows.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import { encodeLogGroup } from '../wire/loggroup.js';
import type { CipherBackend } from './aead.js';
import type { SearchIndex } from './index-tokens.js';
import { sealTask, type SealedBatch, type SealJob, type SealTask, type SealTaskResult } from './seal-job.js';
import { SharedBuffers } from './shared-buffers.js';
import { transferable } from './transfer.js';

export type { SealedBatch, SealJob } from './seal-job.js';

export interface SealPoolOptions {
  /** Worker threads at most; default os.availableParallelism(). */
  threads?: number;
  /** Jobs that may wait for a free thread before `seal` itself waits; default 2 × threads. */
  maxQueue?: number;
  backend?: CipherBackend | 'auto';
  /**
   * Seal on the main thread while sealing took less than this share of the last seconds' wall time; 0 always uses
   * workers. Default 0.1: at a few MB/s a worker isolate (~15 MB and its start-up) buys nothing.
   */
  inlineShare?: number;
  /** A worker that had nothing to do this long is stopped; default 10 s. */
  idleTimeoutMs?: number;
  /** Where the worker module is; default the compiled seal-worker.js beside this file. */
  workerFile?: string;
  /**
   * Searchable fields: every batch (for `logstore`, the Logstore the index key was made for, when given) gets their
   * tokens. The pool keeps its own copy of the key and zeroes it on close.
   */
  index?: SearchIndex & { logstore?: string };
}

/** Decaying sum of sealing time: the share of wall time recent batches needed, wherever they ran. */
class SealLoad {
  private busyMs = 0;
  private at = performance.now();

  constructor(private readonly halfLifeMs = 2000) {}

  add(ms: number): void {
    this.decay();
    this.busyMs += ms;
  }

  /** Share of one thread's time that sealing took lately (recent batches weigh more). */
  share(): number {
    this.decay();
    return (this.busyMs * Math.LN2) / this.halfLifeMs; // a steady share f leaves f · ∫ 2^(-t/h) dt = f · h / ln 2 behind
  }

  private decay(): void {
    const now = performance.now();
    this.busyMs *= 2 ** (-(now - this.at) / this.halfLifeMs);
    this.at = now;
  }
}

/** Larger bodies get memory of their own (a PutLogs body is at most a few MB: SLS refuses larger ones). */
const MAX_SHARED_BODY = 64 * 1024 * 1024;

export class SealPool {
  private piscina: Piscina<SealTask, SealTaskResult & { sealMs: number }> | undefined;
  private readonly threads: number;
  /** Jobs accepted at once: one per thread plus the queue. */
  private readonly capacity: number;
  private readonly load = new SealLoad();
  private readonly index: (SearchIndex & { logstore?: string }) | undefined;
  /** Shared memory for the bodies of batches sent uncompressed, sealed inline or by a worker (shared-buffers.ts). */
  private readonly bodies: SharedBuffers;
  /**
   * The largest body / batch size ratio seen lately: how much shared memory to hand a task for its body. It starts
   * low and learns: a body that does not fit gets memory of its own, and the ratio its size.
   */
  private bodyRatio = 1;
  private admitted = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly unsettled = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly o: SealPoolOptions = {}) {
    this.threads = Math.max(1, o.threads ?? availableParallelism());
    const maxQueue = Math.max(0, o.maxQueue ?? 2 * this.threads);
    this.capacity = this.threads + maxQueue;
    this.bodies = new SharedBuffers(this.capacity + 2);
    this.index = o.index && o.index.fields.length > 0 ? { ...o.index, key: Uint8Array.from(o.index.key), fields: [...o.index.fields] } : undefined;
  }

  /** Jobs accepted but not yet running on a thread. */
  get queueSize(): number {
    return (this.piscina?.queueSize ?? 0) + this.waiting.length;
  }

  /** Shared body buffers kept for the next batches (released and not yet handed out again). */
  get sharedBodiesFree(): number {
    return this.bodies.freeCount;
  }

  /** Worker threads running now (0 while batches are sealed on the main thread). */
  get workerThreads(): number {
    return this.piscina?.threads.length ?? 0;
  }

  /** Seals a batch. Beyond the queue bound the job waits its turn, in order of arrival. */
  seal(job: SealJob): Promise<SealedBatch> {
    if (this.closed) return Promise.reject(new Error('seal pool is closed'));
    // The key is copied now, not once a thread is free: the DataKeyCache zeroes a replaced key at its next rotation,
    // which can come while this job waits its turn, and a job sealing under zeros ships records nobody can open.
    // A key decoded from base64 may sit in a shared Buffer slab, and a clone would carry the whole slab along.
    const plaintext = Uint8Array.from(job.key.plaintext);
    const done = this.admit().then(() => this.run({ ...job, key: { ...job.key, plaintext } }));
    this.unsettled.add(done);
    const forget = () => this.unsettled.delete(done);
    done.then(forget, forget);
    return done;
  }

  // The batch travels as its protobuf encoding, moved rather than copied: a structured clone of thousands
  // of log objects costs the main thread more than sealing them does. Encoding waits for admission, so
  // queued jobs do not hold a second copy of their batch.
  private async run(job: SealJob): Promise<SealedBatch> {
    const plaintext = job.key.plaintext; // this job's own copy, made in seal()
    const indexed = this.index && (this.index.logstore === undefined || this.index.logstore === job.target.logstore);
    const index = indexed ? { ...this.index!, key: Uint8Array.from(this.index!.key) } : undefined;
    try {
      const encoded = 'group' in job ? encodeLogGroup(job.group) : job.encoded;
      const logCount = 'group' in job ? job.group.logs.length : job.logCount;
      const task: SealTask = { encoded, key: { ...job.key, plaintext }, target: job.target, compressType: job.compressType };
      if (index) task.index = index;
      const size = encoded.length; // before the batch is moved to a worker, which empties `encoded`
      const room = Math.ceil(size * this.bodyRatio * 1.05) + 16 * 1024;
      // Uncompressed bodies go into memory reused from batch to batch, on the main thread as on the workers, rather
      // than into a new buffer per batch that lies dead until a collection finds it.
      const into = task.compressType === 'none' && room <= MAX_SHARED_BODY ? this.bodies.take(room) : undefined;
      if (into) task.bodyInto = into;
      let kept = false;
      try {
        let result: SealTaskResult;
        const inline = this.inline();
        if (inline) {
          const t0 = performance.now();
          result = sealTask(task, this.o.backend ?? 'auto');
          this.load.add(performance.now() - t0);
        } else {
          const moved = transferable(encoded);
          const { sealMs, ...fromWorker } = await this.workers().run({ ...task, encoded: moved }, { transferList: [moved.buffer as ArrayBuffer] });
          this.load.add(sealMs);
          result = fromWorker;
        }
        const body = result.payload.body;
        this.bodyRatio = Math.max(this.bodyRatio * 0.98, body.length / Math.max(1, size));
        kept = into !== undefined && body.buffer instanceof SharedArrayBuffer;
        // Sealed inline, a body that owns its memory as a worker's does, not a view that keeps a shared slab alive.
        const payload = inline && !kept ? { ...result.payload, body: transferable(body) } : result.payload;
        return { ...result, payload, logCount, ...(kept ? { release: () => this.bodies.give(into!) } : {}) };
      } finally {
        if (into && !kept) this.bodies.give(into);
      }
    } finally {
      plaintext.fill(0);
      index?.key.fill(0);
      this.release();
    }
  }

  // Inline only when nothing waits: a queue means the load outgrew the main thread's share already.
  private inline(): boolean {
    const share = this.o.inlineShare ?? 0.1;
    return share > 0 && this.waiting.length === 0 && (this.piscina?.queueSize ?? 0) === 0 && this.load.share() < share;
  }

  private workers(): Piscina<SealTask, SealTaskResult & { sealMs: number }> {
    if (!this.piscina) {
      // Under vitest/tsx this module is TypeScript and so is the worker; the compiled build uses .js.
      const source = import.meta.url.endsWith('.ts');
      // Loaded with the first worker: an agent that seals inline (idle, or at low rates) does not hold piscina.
      const { Piscina: Pool } = createRequire(import.meta.url)('piscina') as typeof import('piscina');
      this.piscina = new Pool({
        filename: this.o.workerFile ?? fileURLToPath(new URL(source ? '../seal/seal-worker.ts' : '../seal/seal-worker.js', import.meta.url)),
        // Threads start when batches arrive and grow to `threads` only while batches wait for one.
        minThreads: 0,
        maxThreads: this.threads,
        idleTimeout: this.o.idleTimeoutMs ?? 10_000,
        execArgv: source ? ['--import', 'tsx'] : [],
        workerData: { backend: this.o.backend ?? 'auto' },
      });
    }
    return this.piscina;
  }

  /** Finishes every accepted job, then stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.unsettled.size > 0) await Promise.allSettled([...this.unsettled]);
    await this.piscina?.close();
    this.index?.key.fill(0);
    this.bodies.clear();
  }

  private admit(): Promise<void> {
    if (this.admitted < this.capacity) {
      this.admitted++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  // A finished job hands its slot straight to the oldest waiter, so no newcomer can overtake it.
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.admitted--;
  }
}
