// Where a logstore's at-rest data key comes from: a per-logstore service key, or a BYOK data key from the user's CMK via KMS.
import type { AtRestKms } from './index.js';
import { keyBytesFor, newServiceKey } from './at-rest.js';
import { SlsApiError } from './errors.js';
import type { EncryptConf } from './logstore-config.js';

/** What the logstore's metadata file keeps about its key. The service key sits in the (0600) file itself. */
export type StoredKey = { kind: 'service'; key: string } | { kind: 'byok'; cmkId: string; blob: string };

/** The KMS encryption context binding a BYOK data key to its logstore. */
export function keyContext(project: string, logstore: string): Record<string, string> {
  return { 'sls-emulator': '1', project, logstore };
}

function kmsCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function disabled(cmkId: string, logstore: string, state: string): SlsApiError {
  return new SlsApiError(
    'KMSKeyDisabled',
    `The CMK ${cmkId} that encrypts logstore ${logstore} is ${state}; every read and write on this logstore fails until the CMK is enabled.`,
  );
}

/** Maps a KMS failure to the answer the client sees; KMS detail stays a code, never key material. */
function fromKmsError(e: unknown, cmkId: string, logstore: string, op: string): SlsApiError {
  const code = kmsCode(e);
  if (code === 'Forbidden.KeyNotFound') return disabled(cmkId, logstore, 'NotFound');
  if (code === 'Rejected.Disabled') return disabled(cmkId, logstore, 'Disabled');
  if (code === 'Rejected.PendingDeletion') return disabled(cmkId, logstore, 'PendingDeletion');
  return new SlsApiError('InternalServerError', `KMS ${op} for CMK ${cmkId} failed${code ? ` with ${code}` : ''}.`);
}

/** Creates the key for a newly configured encrypt_conf; returns what to store and the plaintext to cache. */
export async function provisionKey(
  project: string,
  logstore: string,
  conf: EncryptConf,
  kms: AtRestKms | undefined,
): Promise<{ stored: StoredKey; plaintext: Buffer }> {
  const cmk = conf.user_cmk_info;
  if (!cmk) {
    const key = newServiceKey(conf.encrypt_type);
    return { stored: { kind: 'service', key: key.toString('base64') }, plaintext: key };
  }
  if (!kms) {
    throw new SlsApiError(
      'ParameterInvalid',
      'encrypt_conf.user_cmk_info (BYOK) needs a KMS, and this emulator was started without atRestKms.',
    );
  }
  let dk: { plaintext: Buffer; blob: string };
  try {
    dk = await kms.generateDataKey(cmk.cmk_key_id, keyBytesFor(conf.encrypt_type), keyContext(project, logstore));
  } catch (e) {
    if (kmsCode(e) === 'Forbidden.KeyNotFound') {
      throw new SlsApiError('ParameterInvalid', `encrypt_conf.user_cmk_info.cmk_key_id ${cmk.cmk_key_id} does not exist in KMS.`);
    }
    throw fromKmsError(e, cmk.cmk_key_id, logstore, 'GenerateDataKey');
  }
  if (dk.plaintext.length !== keyBytesFor(conf.encrypt_type)) {
    throw new SlsApiError('InternalServerError', `KMS returned a ${dk.plaintext.length}-byte data key for CMK ${cmk.cmk_key_id}.`);
  }
  return { stored: { kind: 'byok', cmkId: cmk.cmk_key_id, blob: dk.blob }, plaintext: Buffer.from(dk.plaintext) };
}

/**
 * The plaintext key for a read or write. A BYOK key is checked against KMS on every call, because the service stops
 * serving the logstore as soon as the CMK is disabled or scheduled for deletion, and serves it again once enabled.
 */
export async function usableKey(
  stored: StoredKey,
  cached: Buffer | undefined,
  project: string,
  logstore: string,
  kms: AtRestKms | undefined,
): Promise<Buffer> {
  if (stored.kind === 'service') return cached ?? Buffer.from(stored.key, 'base64');
  if (!kms) {
    throw new SlsApiError('InternalServerError', `logstore ${logstore} uses BYOK, and this emulator was started without atRestKms.`);
  }
  let state: string;
  try {
    state = await kms.keyState(stored.cmkId);
  } catch (e) {
    throw fromKmsError(e, stored.cmkId, logstore, 'DescribeKey');
  }
  if (state !== 'Enabled') throw disabled(stored.cmkId, logstore, state);
  if (cached) return cached;
  try {
    return Buffer.from(await kms.decrypt(stored.blob, keyContext(project, logstore)));
  } catch (e) {
    throw fromKmsError(e, stored.cmkId, logstore, 'Decrypt');
  }
}
