// The SLS LogGroup protobuf (PROTOCOLS.md): the types every stage passes around, and their codec.
import { encodeGroup, encodeGroupList } from './loggroup-encoder.js';
import { decodeGroup, decodeGroupList } from './loggroup-decoder.js';

export { LogGroupDecodeError } from './loggroup-decoder.js';

/** A content value is text, or raw bytes when the source was not valid UTF-8 (written verbatim). */
export type ContentValue = string | Uint8Array;

export interface LogContent {
  key: string;
  value: ContentValue;
}

export interface Log {
  /** Unix seconds. */
  time: number;
  contents: LogContent[];
  /** Nanosecond part of the time; absent when not set. */
  timeNs?: number;
}

export interface LogTag {
  key: string;
  value: string;
}

export interface LogGroup {
  logs: Log[];
  topic?: string;
  source?: string;
  machineUUID?: string;
  reserved?: string;
  logTags: LogTag[];
}

/**
 * Protobuf bytes of `group`. Fields are written in field-number order, optional ones only when defined;
 * a Uint8Array value is written verbatim. Throws RangeError when Time or Time_ns is not a uint32. `into`, when given
 * and large enough, holds the bytes (they start at its beginning); else they get a buffer of their own.
 */
export function encodeLogGroup(group: LogGroup, into?: ArrayBufferLike): Uint8Array {
  if (!into) return encodeGroup(group);
  return encodeGroup(group, (size) => (size <= into.byteLength ? Buffer.from(into, 0, size) : Buffer.allocUnsafe(size)));
}

/**
 * Decodes a LogGroup; throws LogGroupDecodeError on malformed protobuf or missing required fields.
 * A Content value that is valid UTF-8 comes back as a string, any other as the same bytes.
 */
export function decodeLogGroup(bytes: Uint8Array): LogGroup {
  return decodeGroup(bytes);
}

export function encodeLogGroupList(groups: LogGroup[]): Uint8Array {
  return encodeGroupList(groups);
}

/** Decodes a LogGroupList (what PullLogs returns); throws LogGroupDecodeError like decodeLogGroup. */
export function decodeLogGroupList(bytes: Uint8Array): LogGroup[] {
  return decodeGroupList(bytes);
}
