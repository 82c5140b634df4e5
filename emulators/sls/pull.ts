// Reading side of a shard: opaque cursors and the LogGroupList body PullLogs returns.
import { SlsApiError } from './errors.js';

/** A cursor is base64 of the record position, opaque to clients like the service's own cursors. */
export function encodeCursor(position: number): string {
  return Buffer.from(String(position)).toString('base64');
}

/** Decodes a cursor for a shard holding `count` records; a cursor past the end is refused. */
export function decodeCursor(cursor: string, count: number): number {
  const text = /^[A-Za-z0-9+/]+={0,2}$/.test(cursor) ? Buffer.from(cursor, 'base64').toString('latin1') : '';
  if (!/^\d{1,15}$/.test(text)) throw new SlsApiError('InvalidCursor', `cursor ${cursor} is invalid.`);
  const position = Number(text);
  if (position > count) throw new SlsApiError('InvalidCursor', `cursor ${cursor} is beyond the end of the shard.`);
  return position;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

// The memory of PullLogs answers is reused once each is written (send() gives it back), and the LogGroupList is laid
// out in one buffer kept for the next: answers of several MB each, allocated anew, had the emulator's garbage
// collector run a full collection for every few answers when serving mode `log`.
let listScratch: Buffer = Buffer.alloc(0);
const spareAnswers: Buffer[] = [];
const MAX_SPARE = 8;

function answerMemory(size: number): Buffer {
  const i = spareAnswers.findIndex((b) => b.length >= size);
  return i >= 0 ? spareAnswers.splice(i, 1)[0]! : Buffer.allocUnsafeSlow(size);
}

/**
 * LogGroupList { repeated LogGroup logGroupList = 1; } of stored LogGroup bytes (not re-encoded) as a PullLogs body:
 * compressed by `pack` into memory with room for `bound(size)` bytes (it returns the length). The body's memory is
 * lent: `release` gives it back once the answer is written.
 */
export function packedLogGroupList(groups: readonly Buffer[], bound: (size: number) => number, pack: (list: Buffer, out: Buffer) => number): { body: Buffer; rawSize: number; release: () => void } {
  let size = 0;
  for (const g of groups) size += 1 + varint(g.length).length + g.length;
  if (listScratch.length < size) listScratch = Buffer.allocUnsafeSlow(Math.max(size, Math.floor(listScratch.length * 1.5)));
  let at = 0;
  for (const g of groups) {
    listScratch[at++] = 0x0a;
    at += varint(g.length).copy(listScratch, at);
    at += g.copy(listScratch, at);
  }
  const memory = answerMemory(bound(size));
  const n = pack(listScratch.subarray(0, size), memory);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    if (spareAnswers.length < MAX_SPARE) spareAnswers.push(memory);
  };
  return { body: memory.subarray(0, n), rawSize: size, release };
}
