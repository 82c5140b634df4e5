// One batch sealed into its PutLogs body: what the pool hands a thread, what comes back, and the work itself, which
// runs on a worker thread or, at low load, on the main thread.
import { preparePayload, type CompressType } from '../ship/payload.js';
import { encodeLogGroup, type LogGroup } from '../wire/loggroup.js';
import type { CipherBackend } from './aead.js';
import { cipherFor } from './cipher.js';
import type { SearchIndex } from './index-tokens.js';
import { sealEncodedGroup, type DataKey, type SealTarget } from './record.js';

interface SealJobParams {
  key: DataKey;
  target: SealTarget;
  /** Compression of the PutLogs body (`x-log-compresstype`); independent of the records' own `zip`. */
  compressType: CompressType;
}

/**
 * A batch to seal: a LogGroup, or its encoding as encodeLogGroup writes it (what the batcher builds). An encoded
 * batch in an ArrayBuffer of its own is moved to the worker, so the caller's array is detached afterwards.
 */
export type SealJob = SealJobParams & ({ group: LogGroup } | { encoded: Uint8Array; logCount: number });

export interface SealedBatch {
  /** `body` may lie in memory shared with the workers: call release() once nothing reads it any more. */
  payload: { body: Uint8Array; rawSize: number; compressType: CompressType };
  logCount: number;
  /** Plaintext bytes sealed, before compression. */
  plainBytes: number;
  records: number;
  /** The ArrayBuffer the batch was handed over in, moved back from the worker and free for reuse. */
  spare: ArrayBufferLike;
  /** Hands the body's shared memory back for a later batch (present only when the body lies in it). */
  release?: () => void;
}

/** What a thread is given: the batch already encoded by encodeLogGroup, and its own copy of the data key. */
export type SealTask = SealJobParams & {
  encoded: Uint8Array;
  /** Searchable fields; this task's copy of the index key is zeroed once the batch is sealed. */
  index?: SearchIndex;
  /** Shared memory the PutLogs body is written into when it is sent uncompressed and fits (else it gets its own). */
  bodyInto?: SharedArrayBuffer;
};

export type SealTaskResult = Omit<SealedBatch, 'logCount' | 'release'>;

/** Seals `task.encoded` and builds its PutLogs body; zeroes the task's copies of the keys whatever happens. */
export function sealTask(task: SealTask, backend: CipherBackend | 'auto'): SealTaskResult {
  try {
    const cipher = cipherFor(task.key.algorithm, backend);
    // The shipped group is encoded right below, before any other seal on this thread: its text may be reused.
    const { shipped, plainBytes } = sealEncodedGroup(task.encoded, task.key, task.target, cipher, { reuseText: true, ...(task.index ? { index: task.index } : {}) });
    const into = task.compressType === 'none' ? task.bodyInto : undefined; // else the body is the compressor's output
    const payload = preparePayload(encodeLogGroup(shipped, into), task.compressType);
    // The batch's buffer goes back too, so the batcher can fill it again instead of allocating another.
    return { payload, plainBytes, records: shipped.logs.length, spare: task.encoded.buffer };
  } finally {
    task.key.plaintext.fill(0);
    task.index?.key.fill(0);
  }
}
