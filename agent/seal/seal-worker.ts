// Body of a SealPool worker thread: runs one seal task and moves its PutLogs body and spare buffer back uncopied
// (shared memory goes back as it came, shared), with the time it took (the pool's measure of load).
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import type { CipherBackend } from './aead.js';
import { sealTask, type SealTask } from './seal-job.js';
import { transferable } from './transfer.js';

const backend = (workerData as { backend?: CipherBackend | 'auto' } | undefined)?.backend ?? 'auto';

export default function sealInWorker(task: SealTask): unknown {
  const t0 = performance.now();
  const result = sealTask(task, backend);
  const sealMs = performance.now() - t0;
  const body = transferable(result.payload.body);
  const moved = { ...result, payload: { ...result.payload, body }, sealMs };
  const owned = [body.buffer, result.spare].filter((b) => b instanceof ArrayBuffer);
  return move({ [transferableSymbol]: owned, [valueSymbol]: moved } as unknown as Parameters<typeof move>[0]);
}
