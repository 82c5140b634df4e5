// The KMS actions the emulator answers: request parameters in, the JSON body of the response out.
import { kmsErrors } from './errors.js';
import { isKeySpec, type KeyMetadata, type KmsKeyring } from './keyring.js';

export type Params = Record<string, string>;
type Action = (ring: KmsKeyring, p: Params) => Promise<Record<string, unknown>>;

function required(p: Params, name: string): string {
  const v = p[name];
  if (v === undefined || v === '') throw kmsErrors.missingParameter(name);
  return v;
}

function integer(p: Params, name: string): number | undefined {
  const v = p[name];
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw kmsErrors.invalidParameter(name);
  return Number(v);
}

/**
 * EncryptionContext arrives as the documented JSON string, or flattened as `EncryptionContext.<key>=<value>`
 * (what @alicloud/kms20160120 1.2.0 sends when given an object). Both are accepted and merged.
 */
export function encryptionContextOf(p: Params): Record<string, string> {
  const context: Record<string, string> = {};
  const json = p['EncryptionContext'];
  if (json !== undefined && json !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw kmsErrors.invalidParameter('EncryptionContext');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw kmsErrors.invalidParameter('EncryptionContext');
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== 'string') throw kmsErrors.invalidParameter('EncryptionContext');
      context[k] = v;
    }
  }
  for (const [k, v] of Object.entries(p)) {
    if (k.startsWith('EncryptionContext.')) context[k.slice('EncryptionContext.'.length)] = v;
  }
  return context;
}

function keyMetadataJson(m: KeyMetadata): Record<string, unknown> {
  return {
    KeyId: m.keyId,
    Arn: m.arn,
    KeySpec: m.keySpec,
    KeyState: m.keyState,
    KeyUsage: m.keyUsage,
    Origin: m.origin,
    ProtectionLevel: m.protectionLevel,
    Description: m.description,
    Creator: m.creator,
    CreationDate: m.creationDate,
    DeleteDate: m.deleteDate ?? '',
    PrimaryKeyVersion: m.primaryKeyVersion,
  };
}

/** KeySpec `AES_256` (the default) or `AES_128`; NumberOfBytes, when present, wins. */
function dataKeyLength(p: Params): number {
  const n = integer(p, 'NumberOfBytes');
  if (n !== undefined) return n;
  const spec = p['KeySpec'] || 'AES_256';
  if (spec === 'AES_256') return 32;
  if (spec === 'AES_128') return 16;
  throw kmsErrors.invalidParameter('KeySpec');
}

export const actions: Record<string, Action> = {
  async CreateKey(ring, p) {
    const spec = p['KeySpec'] || 'Aliyun_AES_256';
    if (!isKeySpec(spec)) throw kmsErrors.invalidParameter('KeySpec');
    if (p['KeyUsage'] && p['KeyUsage'] !== 'ENCRYPT/DECRYPT') throw kmsErrors.invalidParameter('KeyUsage');
    return { KeyMetadata: keyMetadataJson(await ring.createKey(spec, p['Description'] ?? '')) };
  },

  async DescribeKey(ring, p) {
    return { KeyMetadata: keyMetadataJson(ring.describeKey(required(p, 'KeyId'))) };
  },

  async ListKeys(ring, p) {
    const pageNumber = integer(p, 'PageNumber') ?? 1;
    const pageSize = integer(p, 'PageSize') ?? 10;
    if (pageNumber < 1) throw kmsErrors.invalidParameter('PageNumber');
    if (pageSize < 1 || pageSize > 100) throw kmsErrors.invalidParameter('PageSize');
    const all = ring.listKeys();
    const page = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    return {
      TotalCount: all.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
      Keys: { Key: page.map((m) => ({ KeyId: m.keyId, KeyArn: m.arn })) },
    };
  },

  async EnableKey(ring, p) {
    await ring.setEnabled(required(p, 'KeyId'), true);
    return {};
  },

  async DisableKey(ring, p) {
    await ring.setEnabled(required(p, 'KeyId'), false);
    return {};
  },

  async ScheduleKeyDeletion(ring, p) {
    const days = integer(p, 'PendingWindowInDays');
    if (days === undefined) throw kmsErrors.missingParameter('PendingWindowInDays');
    await ring.scheduleDeletion(required(p, 'KeyId'), days);
    return {};
  },

  async CancelKeyDeletion(ring, p) {
    await ring.cancelDeletion(required(p, 'KeyId'));
    return {};
  },

  async CreateAlias(ring, p) {
    await ring.createAlias(required(p, 'AliasName'), required(p, 'KeyId'));
    return {};
  },

  async GenerateDataKey(ring, p) {
    const k = await ring.generateDataKey(required(p, 'KeyId'), dataKeyLength(p), encryptionContextOf(p));
    return {
      KeyId: k.keyId,
      KeyVersionId: k.keyVersionId,
      Plaintext: k.plaintext.toString('base64'),
      CiphertextBlob: k.blob,
    };
  },

  async Encrypt(ring, p) {
    const plaintext = Buffer.from(required(p, 'Plaintext'), 'utf8');
    const k = await ring.encrypt(required(p, 'KeyId'), plaintext, encryptionContextOf(p));
    return { KeyId: k.keyId, KeyVersionId: k.keyVersionId, CiphertextBlob: k.blob };
  },

  async Decrypt(ring, p) {
    const k = await ring.decrypt(required(p, 'CiphertextBlob'), encryptionContextOf(p));
    // A data key comes back base64 as GenerateDataKey gave it; Encrypt's text comes back as it was given.
    const plaintext = k.kind === 'dataKey' ? k.plaintext.toString('base64') : k.plaintext.toString('utf8');
    return { KeyId: k.keyId, KeyVersionId: k.keyVersionId, Plaintext: plaintext };
  },
};
