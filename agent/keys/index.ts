// Data keys for sealing: the KMS client, the EncryptionContext, and the rotating cache the sealer draws keys from.
export { DataKeyCache, DEFAULT_ROTATION, HARD_MAX_RECORDS } from './data-key-cache.js';
export type { DataKey, DataKeyCacheOptions, DataKeyCacheStatus, RotationPolicy, SealAlgorithm } from './data-key-cache.js';
export { encryptionContext } from './encryption-context.js';
export { createIndexKey, IndexKeyError, indexKeyContext, openIndexKey } from './index-key.js';
export { KmsClient } from './kms-client.js';
export type { GeneratedDataKey, KmsClientOptions } from './kms-client.js';
export { KmsError, toKmsError } from './kms-error.js';
