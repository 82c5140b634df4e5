// Body of a SealPool worker thread: seals one encoded batch, builds the compressed PutLogs body, and moves it back uncopied.
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { encodeLogGroup } from '../wire/loggroup.js';
import { preparePayload } from '../ship/payload.js';
import type { CipherBackend } from './aead.js';
import { cipherFor } from './cipher.js';
import type { SearchIndex } from './index-tokens.js';
import type { SealedBatch, SealJob } from './pool.js';
import { sealEncodedGroup } from './record.js';
import { transferable } from './transfer.js';

/** What the pool sends: the batch already encoded by encodeLogGroup, its buffer transferred. */
export type WorkerTask = Pick<SealJob, 'key' | 'target' | 'compressType'> & {
  encoded: Uint8Array;
  /** Searchable fields; this thread's copy of the index key is zeroed once the batch is sealed. */
  index?: SearchIndex;
};

export type WorkerResult = Omit<SealedBatch, 'logCount'>;

const backend = (workerData as { backend?: CipherBackend | 'auto' } | undefined)?.backend ?? 'auto';

export default function sealInWorker(task: WorkerTask): unknown {
  try {
    const cipher = cipherFor(task.key.algorithm, backend);
    const { shipped, plainBytes } = sealEncodedGroup(task.encoded, task.key, task.target, cipher, task.index ? { index: task.index } : {});
    const encoded = encodeLogGroup(shipped);
    const payload = preparePayload(encoded, task.compressType);
    const body = transferable(payload.body);
    // The batch's buffer goes back too, so the batcher can fill it again instead of allocating another.
    const spare = task.encoded.buffer as ArrayBuffer;
    const result: WorkerResult = {
      payload: { ...payload, body },
      plainBytes,
      records: shipped.logs.length,
      spare,
    };
    return move({ [transferableSymbol]: [body.buffer, spare], [valueSymbol]: result } as unknown as Parameters<typeof move>[0]);
  } finally {
    task.key.plaintext.fill(0); // this thread's copy of the data key
    task.index?.key.fill(0);
  }
}
