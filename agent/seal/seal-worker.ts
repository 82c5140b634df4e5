// Body of a SealPool worker thread: seals one encoded batch, builds the compressed PutLogs body, and moves it back uncopied.
import { deflateSync } from 'node:zlib';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { encodeLogGroup } from '../wire/loggroup.js';
import { lz4Compress } from '../wire/lz4.js';
import type { CipherBackend } from './aead.js';
import { cipherFor } from './cipher.js';
import type { SealedBatch, SealJob } from './pool.js';
import { sealEncodedGroup } from './record.js';
import { transferable } from './transfer.js';

/** What the pool sends: the batch already encoded by encodeLogGroup, its buffer transferred. */
export interface WorkerTask extends Omit<SealJob, 'group'> {
  encoded: Uint8Array;
}

export type WorkerResult = Omit<SealedBatch, 'logCount'>;

const backend = (workerData as { backend?: CipherBackend | 'auto' } | undefined)?.backend ?? 'auto';

export default function sealInWorker(task: WorkerTask): unknown {
  try {
    const cipher = cipherFor(task.key.algorithm, backend);
    const { shipped, plainBytes } = sealEncodedGroup(task.encoded, task.key, task.target, cipher);
    const encoded = encodeLogGroup(shipped);
    const body = transferable(compress(encoded, task.compressType));
    const result: WorkerResult = {
      payload: { body, rawSize: encoded.length, compressType: task.compressType },
      plainBytes,
      records: shipped.logs.length,
    };
    return move({ [transferableSymbol]: body.buffer, [valueSymbol]: result } as Parameters<typeof move>[0]);
  } finally {
    task.key.plaintext.fill(0); // this thread's copy of the data key
  }
}

// The PutLogs body as `x-log-compresstype` names it: an LZ4 block, zlib ('deflate'), or as is.
function compress(encoded: Uint8Array, type: SealJob['compressType']): Uint8Array {
  if (type === 'lz4') return lz4Compress(encoded);
  if (type === 'deflate') return deflateSync(encoded);
  return encoded;
}
