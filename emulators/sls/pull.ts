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

/** LogGroupList { repeated LogGroup logGroupList = 1; } built from stored LogGroup bytes without re-encoding them. */
export function logGroupListBytes(groups: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const g of groups) parts.push(Buffer.from([0x0a]), varint(g.length), g);
  return Buffer.concat(parts);
}
