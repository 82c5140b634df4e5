// The emulator's CiphertextBlob: a self-describing envelope that only the keyring holding the master key can open.
//
// Layout (then standard base64):
//   "LSK" | version 0x01 | wrap algorithm | payload kind | len, KeyId | len, KeyVersionId | nonce | ciphertext | tag
// The AAD is every byte before the ciphertext followed by the canonical EncryptionContext, so changing the key
// reference, the kind, the nonce or the context makes the tag fail.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { kmsErrors } from './errors.js';

/** How a master key wraps: AES-256-GCM for `Aliyun_AES_256`, SM4-CTR then HMAC-SHA256 for `Aliyun_SM4`. */
export type WrapAlgorithm = 'AES_256_GCM' | 'SM4_CTR_HMAC_SHA256';

/** What Decrypt hands back: a data key (returned base64) or the text that Encrypt was given (returned as is). */
export type PayloadKind = 'dataKey' | 'text';

export interface BlobHeader {
  algorithm: WrapAlgorithm;
  kind: PayloadKind;
  keyId: string;
  keyVersionId: string;
}

const MAGIC = Buffer.from('LSK', 'ascii');
const FORMAT_VERSION = 1;
const ALGORITHM_IDS: Record<WrapAlgorithm, number> = { AES_256_GCM: 1, SM4_CTR_HMAC_SHA256: 2 };
const KIND_IDS: Record<PayloadKind, number> = { dataKey: 0, text: 1 };
const NONCE_BYTES: Record<WrapAlgorithm, number> = { AES_256_GCM: 12, SM4_CTR_HMAC_SHA256: 16 };
const TAG_BYTES: Record<WrapAlgorithm, number> = { AES_256_GCM: 16, SM4_CTR_HMAC_SHA256: 32 };
/** Master key material length per algorithm. */
export const MATERIAL_BYTES: Record<WrapAlgorithm, number> = { AES_256_GCM: 32, SM4_CTR_HMAC_SHA256: 16 };

/** Key order must not matter: `{a,b}` and `{b,a}` are the same context. */
export function canonicalContext(context: Record<string, string>): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return Buffer.from(JSON.stringify(sorted), 'utf8');
}

function encodeHeader(h: BlobHeader, nonce: Buffer): Buffer {
  const keyId = Buffer.from(h.keyId, 'utf8');
  const versionId = Buffer.from(h.keyVersionId, 'utf8');
  if (keyId.length > 255 || versionId.length > 255) throw new RangeError('key id too long for a blob');
  return Buffer.concat([
    MAGIC,
    Buffer.from([FORMAT_VERSION, ALGORITHM_IDS[h.algorithm], KIND_IDS[h.kind], keyId.length]),
    keyId,
    Buffer.from([versionId.length]),
    versionId,
    nonce,
  ]);
}

interface ParsedBlob {
  header: BlobHeader;
  /** Every byte up to and including the nonce. */
  headerBytes: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function byId<T extends string>(table: Record<T, number>, id: number): T | undefined {
  return (Object.keys(table) as T[]).find((k) => table[k] === id);
}

function parse(blob: string): ParsedBlob {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) throw kmsErrors.invalidCiphertext();
  const bytes = Buffer.from(blob, 'base64');
  const fail = (): never => {
    throw kmsErrors.invalidCiphertext();
  };
  if (bytes.length < 8 || !bytes.subarray(0, 3).equals(MAGIC) || bytes[3] !== FORMAT_VERSION) fail();
  const algorithm = byId(ALGORITHM_IDS, bytes[4]!) ?? fail();
  const kind = byId(KIND_IDS, bytes[5]!) ?? fail();
  let at = 6;
  const keyIdLength = bytes[at++]!;
  const keyId = bytes.subarray(at, (at += keyIdLength)).toString('utf8');
  const versionIdLength = bytes[at++] ?? fail();
  const keyVersionId = bytes.subarray(at, (at += versionIdLength)).toString('utf8');
  const nonceEnd = at + NONCE_BYTES[algorithm];
  if (nonceEnd + TAG_BYTES[algorithm] > bytes.length) fail();
  return {
    header: { algorithm, kind, keyId, keyVersionId },
    headerBytes: bytes.subarray(0, nonceEnd),
    nonce: bytes.subarray(at, nonceEnd),
    ciphertext: bytes.subarray(nonceEnd, bytes.length - TAG_BYTES[algorithm]),
    tag: bytes.subarray(bytes.length - TAG_BYTES[algorithm]),
  };
}

/** Reads who can open a blob without opening it, so the keyring can check the key's state first. */
export function readBlobHeader(blob: string): BlobHeader {
  return parse(blob).header;
}

function sm4MacKey(material: Buffer): Buffer {
  // A separate MAC key so the SM4 key is never used for two purposes.
  return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'logseal-kms/v1 sm4 mac', 32));
}

function sm4Mac(material: Buffer, aad: Buffer, ciphertext: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(aad.length);
  return createHmac('sha256', sm4MacKey(material)).update(length).update(aad).update(ciphertext).digest();
}

export function sealBlob(header: BlobHeader, material: Buffer, plaintext: Buffer, context: Record<string, string>): string {
  const nonce = randomBytes(NONCE_BYTES[header.algorithm]);
  const headerBytes = encodeHeader(header, nonce);
  const aad = Buffer.concat([headerBytes, canonicalContext(context)]);
  if (header.algorithm === 'AES_256_GCM') {
    const cipher = createCipheriv('aes-256-gcm', material, nonce);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([headerBytes, ciphertext, cipher.getAuthTag()]).toString('base64');
  }
  const cipher = createCipheriv('sm4-ctr', material, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([headerBytes, ciphertext, sm4Mac(material, aad, ciphertext)]).toString('base64');
}

/**
 * Opens a blob with the material of the key version it names. Any mismatch (tampering, another context, another
 * key) fails the same way, so a caller learns nothing about which part was wrong.
 */
export function openBlob(
  blob: string,
  material: (header: BlobHeader) => { algorithm: WrapAlgorithm; material: Buffer } | undefined,
  context: Record<string, string>,
): { header: BlobHeader; plaintext: Buffer } {
  const parsed = parse(blob);
  const key = material(parsed.header);
  if (!key || key.algorithm !== parsed.header.algorithm) throw kmsErrors.invalidCiphertext();
  const aad = Buffer.concat([parsed.headerBytes, canonicalContext(context)]);
  if (parsed.header.algorithm === 'AES_256_GCM') {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.material, parsed.nonce);
      decipher.setAAD(aad);
      decipher.setAuthTag(parsed.tag);
      const plaintext = Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
      return { header: parsed.header, plaintext };
    } catch {
      throw kmsErrors.invalidCiphertext();
    }
  }
  const expected = sm4Mac(key.material, aad, parsed.ciphertext);
  if (!timingSafeEqual(expected, parsed.tag)) throw kmsErrors.invalidCiphertext();
  const decipher = createDecipheriv('sm4-ctr', key.material, parsed.nonce);
  return { header: parsed.header, plaintext: Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]) };
}
