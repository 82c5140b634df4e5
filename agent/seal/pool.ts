// A pool of worker threads that seal batches and prepare their PutLogs bodies, with a bounded queue for back-pressure.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { encodeLogGroup, type LogGroup } from '../wire/loggroup.js';
import type { CipherBackend } from './aead.js';
import type { SearchIndex } from './index-tokens.js';
import type { DataKey, SealTarget } from './record.js';
import type { WorkerResult, WorkerTask } from './seal-worker.js';
import { transferable } from './transfer.js';

interface SealJobParams {
  key: DataKey;
  target: SealTarget;
  /** Compression of the PutLogs body (`x-log-compresstype`); independent of the records' own `zip`. */
  compressType: 'lz4' | 'deflate' | 'none';
}

/**
 * A batch to seal: a LogGroup, or its encoding as encodeLogGroup writes it (what the batcher builds). An encoded
 * batch in an ArrayBuffer of its own is moved to the worker, so the caller's array is detached afterwards.
 */
export type SealJob = SealJobParams & ({ group: LogGroup } | { encoded: Uint8Array; logCount: number });

export interface SealedBatch {
  payload: { body: Uint8Array; rawSize: number; compressType: 'lz4' | 'deflate' | 'none' };
  logCount: number;
  /** Plaintext bytes sealed, before compression. */
  plainBytes: number;
  records: number;
  /** The ArrayBuffer the batch was handed over in, moved back from the worker and free for reuse. */
  spare: ArrayBuffer;
}

export interface SealPoolOptions {
  /** Worker threads; default os.availableParallelism(). */
  threads?: number;
  /** Jobs that may wait for a free thread before `seal` itself waits; default 2 × threads. */
  maxQueue?: number;
  backend?: CipherBackend | 'auto';
  /** Searchable fields: every batch gets their tokens. The pool keeps its own copy of the key and zeroes it on close. */
  index?: SearchIndex;
}

export class SealPool {
  private readonly piscina: Piscina<WorkerTask, WorkerResult>;
  /** Jobs handed to piscina at once: one per thread plus the queue. */
  private readonly capacity: number;
  private admitted = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly unsettled = new Set<Promise<unknown>>();
  private closed = false;
  private readonly index: SearchIndex | undefined;

  constructor(o: SealPoolOptions = {}) {
    const threads = Math.max(1, o.threads ?? availableParallelism());
    const maxQueue = Math.max(0, o.maxQueue ?? 2 * threads);
    this.capacity = threads + maxQueue;
    this.index = o.index && o.index.fields.length > 0 ? { ...o.index, key: Uint8Array.from(o.index.key), fields: [...o.index.fields] } : undefined;
    // Under vitest/tsx this module is TypeScript and so is the worker; the compiled build uses .js.
    const source = import.meta.url.endsWith('.ts');
    this.piscina = new Piscina({
      filename: fileURLToPath(new URL(source ? './seal-worker.ts' : './seal-worker.js', import.meta.url)),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      execArgv: source ? ['--import', 'tsx'] : [],
      workerData: { backend: o.backend ?? 'auto' },
    });
  }

  /** Jobs accepted but not yet running on a thread. */
  get queueSize(): number {
    return this.piscina.queueSize + this.waiting.length;
  }

  /** Seals a batch on a worker thread. Beyond the queue bound the job waits its turn, in order of arrival. */
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
    const index = this.index ? { ...this.index, key: Uint8Array.from(this.index.key) } : undefined;
    try {
      const encoded = transferable('group' in job ? encodeLogGroup(job.group) : job.encoded);
      const logCount = 'group' in job ? job.group.logs.length : job.logCount;
      const task: WorkerTask = { encoded, key: { ...job.key, plaintext }, target: job.target, compressType: job.compressType };
      if (index) task.index = index;
      const result = await this.piscina.run(task, { transferList: [encoded.buffer as ArrayBuffer] });
      return { ...result, logCount };
    } finally {
      plaintext.fill(0);
      index?.key.fill(0);
      this.release();
    }
  }

  /** Finishes every accepted job, then stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.unsettled.size > 0) await Promise.allSettled([...this.unsettled]);
    await this.piscina.close();
    this.index?.key.fill(0);
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
