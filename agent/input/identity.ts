// Telling files apart across renames, restarts and inode reuse: dev+ino plus a hash of the file's first bytes.
import { createHash, randomBytes } from 'node:crypto';
import type { LogFile } from './log-file.js';

/** The fingerprint covers at most this many leading bytes; shorter files get a shorter one that grows with them. */
export const FINGERPRINT_MAX_BYTES = 1024;

export interface Fingerprint {
  fingerprint: string;
  fingerprintBytes: number;
}

export function devInoKey(id: { dev: number; ino: number }): string {
  return `${id.dev}:${id.ino}`;
}

/** The first `bytes` bytes of the file (fewer when it is shorter). */
export async function readHead(fh: LogFile, bytes: number): Promise<Buffer> {
  const buf = Buffer.alloc(bytes);
  let got = 0;
  while (got < bytes) {
    const { bytesRead } = await fh.read(buf, got, bytes - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Fingerprint of the file as it is now (up to FINGERPRINT_MAX_BYTES). */
export async function readFingerprint(fh: LogFile): Promise<Fingerprint> {
  const head = await readHead(fh, FINGERPRINT_MAX_BYTES);
  return { fingerprint: sha256Hex(head), fingerprintBytes: head.length };
}

/** True when the file still starts with the bytes the identity was taken from. */
export async function fingerprintMatches(fh: LogFile, id: Fingerprint): Promise<boolean> {
  const head = await readHead(fh, id.fingerprintBytes);
  return head.length === id.fingerprintBytes && sha256Hex(head) === id.fingerprint;
}

/** True when `head` (first bytes of some file) starts with the bytes of a non-empty fingerprint. */
export function headMatches(head: Buffer, id: Fingerprint): boolean {
  return id.fingerprintBytes > 0 && head.length >= id.fingerprintBytes && sha256Hex(head.subarray(0, id.fingerprintBytes)) === id.fingerprint;
}

/**
 * Re-reads the head of a file whose fingerprint is still short. Returns the longer fingerprint, the same one when the
 * file has not grown past it, or null when the old head no longer matches (the content was replaced).
 */
export async function extendFingerprint(fh: LogFile, id: Fingerprint): Promise<Fingerprint | null> {
  const head = await readHead(fh, FINGERPRINT_MAX_BYTES);
  if (head.length < id.fingerprintBytes) return null;
  if (sha256Hex(head.subarray(0, id.fingerprintBytes)) !== id.fingerprint) return null;
  if (head.length === id.fingerprintBytes) return id;
  return { fingerprint: sha256Hex(head), fingerprintBytes: head.length };
}

/** A fresh id for a file identity; random, since the same dev+ino can name different files over time. */
export function newFileId(id: { dev: number; ino: number }): string {
  return `${id.dev.toString(36)}-${id.ino.toString(36)}-${randomBytes(4).toString('hex')}`;
}
