// The seal stage's public surface: AEAD suites, the FORMAT.md v1 record layer, and the worker pool.
export { AuthenticationError, type AeadCipher, type CipherBackend, type SealAlgorithm } from './aead.js';
export { cipherFor, selfTest } from './cipher.js';
export { SealPool, type SealJob, type SealPoolOptions, type SealedBatch } from './pool.js';
export { ghashBackend } from './sm4-gcm.js';
export {
  SealFormatError,
  openGroup,
  openRecords,
  type OpenedRecords,
  sealGroup,
  sealEncodedGroup,
  sealedRecordLimit,
  type DataKey,
  type SealOptions,
  type SealTarget,
} from './record.js';
