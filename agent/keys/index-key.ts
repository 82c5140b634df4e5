// The index key of searchable fields (FORMAT.md "Searchable fields"): created once per Logstore, opened with KMS Decrypt.
import type { KmsClient } from './kms-client.js';
import { KmsError } from './kms-error.js';

/** FORMAT.md: 32 bytes, bound to the Logstore by its own EncryptionContext (not the data keys' one). */
export const INDEX_KEY_BYTES = 32;

export function indexKeyContext(project: string, logstore: string): Record<string, string> {
  return { logseal: '1-index', project, logstore };
}

/** `seal.indexKey` does not open as this Logstore's index key: wrong blob, another Logstore's, or not an index key. */
export class IndexKeyError extends Error {
  override readonly name = 'IndexKeyError';
}

// KMS answers these when the blob or its EncryptionContext is not the one it was made with.
const NOT_THIS_KEY = new Set(['InvalidParameter', 'InvalidCiphertext', 'Forbidden.KeyNotFound', 'InvalidParameter.CiphertextBlob']);

/** A new index key for `cmk`: only its CiphertextBlob is returned, the plaintext is zeroed at once. */
export async function createIndexKey(kms: Pick<KmsClient, 'generateDataKey'>, cmk: string, project: string, logstore: string): Promise<string> {
  const key = await kms.generateDataKey(cmk, INDEX_KEY_BYTES, indexKeyContext(project, logstore));
  key.plaintext.fill(0);
  return key.blob;
}

/** The plaintext index key inside `blob` (the caller zeroes it when done). */
export async function openIndexKey(kms: Pick<KmsClient, 'decrypt'>, blob: string, project: string, logstore: string): Promise<Uint8Array> {
  let key: Uint8Array;
  try {
    key = await kms.decrypt(blob, indexKeyContext(project, logstore));
  } catch (err) {
    if (err instanceof KmsError && NOT_THIS_KEY.has(err.code)) {
      throw new IndexKeyError(`seal.indexKey: KMS does not open it as the index key of ${project}/${logstore} (${err.code})`);
    }
    throw err;
  }
  if (key.length !== INDEX_KEY_BYTES) {
    key.fill(0);
    throw new IndexKeyError(`seal.indexKey: holds a ${key.length}-byte key, an index key has ${INDEX_KEY_BYTES}`);
  }
  return key;
}
