// The ship stage's public surface: what the pipeline and the CLI import to talk to SLS.
export { SlsClient, type PullOptions, type SlsClientOptions } from './client.js';
export { decompressBody, type PulledBody } from './pull-body.js';
export { SlsError } from './errors.js';
export { RequestConcurrency, reportedRequest, type Release, type RequestOutcome } from './concurrency.js';
export { isPermanentRefusal } from './refusal.js';
export type { SlsCredentials, CredentialSource } from './credentials.js';
export { preparePayload, type CompressType, type PutLogsPayload } from './payload.js';
export type { RetryPolicy } from './retry.js';
export type { LogstoreSpec, EncryptConf, ShardInfo } from './logstore.js';
export { TEXT_KEY_INDEX, type GetLogsPage, type GetLogsRequest, type QueriedLog } from './query.js';
export { ConsumerGroupErrorCode, type ConsumerGroupSpec, type GroupCheckpoint } from './consumer-group.js';
