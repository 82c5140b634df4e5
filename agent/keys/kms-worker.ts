// The KMS thread: runs the official KMS client's calls for the main thread (kms-thread.ts), so that the SDK and the
// modules it brings (~15 MiB once loaded) live in a thread that ends when no call came for a while.
import { parentPort } from 'node:worker_threads';
import { callSdk, type SdkAnswer, type SdkRequest, type SdkTarget } from './kms-sdk-call.js';
import { toKmsError, type KmsErrorFields } from './kms-error.js';

export interface KmsCall {
  id: number;
  target: SdkTarget;
  request: SdkRequest;
}

export type KmsReply = { id: number; answer: SdkAnswer } | { id: number; error: KmsErrorFields };

parentPort!.on('message', (call: KmsCall) => {
  callSdk(call.target, call.request).then(
    (answer) => parentPort!.postMessage({ id: call.id, answer } satisfies KmsReply),
    (err: unknown) => parentPort!.postMessage({ id: call.id, error: toKmsError(err).fields } satisfies KmsReply),
  );
});
