// An open log file as the input reads it: a plain file handle, or a gzip file read as its decompressed bytes.
import type { Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { GzipFile } from './gzip-file.js';

/** What tailers, fingerprints and checkpoint matching need of a file; positions are in the bytes lines come from. */
export interface LogFile {
  /** fstat of the file; for a gzip file, `size` counts decompressed bytes (see GzipFile.stat). */
  stat(): Promise<Stats>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** Rotated logs compressed by logrotate (`compress`) end in .gz; they are read decompressed. */
export function isGzipPath(p: string): boolean {
  return p.endsWith('.gz');
}

export async function openLogFile(p: string): Promise<LogFile> {
  const fh: FileHandle = await open(p, 'r');
  return isGzipPath(p) ? new GzipFile(fh) : fh;
}
