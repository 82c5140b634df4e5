// Turns one line (or multiline event) into log contents: raw, JSON object, or regex with named groups.
import { isUtf8 } from 'node:buffer';
import type { LogContent } from '../wire/loggroup.js';
import type { ParserConfig } from './types.js';

/** Contents of the line buf[start, end). */
export type LineParser = (buf: Buffer, start: number, end: number) => LogContent[];

export const CONTENT_KEY = 'content';
export const PARSE_ERROR_KEY = '__parse_error__';
/** Marks the pieces of a line split for being longer than maxLineBytes (see framer.ts). */
export const SPLIT_KEY = '__split__';

/** The parser for a config; throws (message only) when a regex pattern does not compile or has no named group. */
export function createParser(config: ParserConfig | undefined): LineParser {
  switch (config?.type ?? 'raw') {
    case 'raw':
      return parseRaw;
    case 'json':
      return parseJson;
    case 'regex':
      return regexParser((config as { pattern: string }).pattern);
    default:
      throw new Error(`unknown parser type "${(config as { type: string }).type}"`);
  }
}

/**
 * The line's bytes, as a view. Text or not, the codec writes them verbatim, so there is no decode here: this keeps
 * invalid UTF-8 lossless and costs nothing per line.
 */
function parseRaw(buf: Buffer, start: number, end: number): LogContent[] {
  return [{ key: CONTENT_KEY, value: bytesOf(buf, start, end) }];
}

function bytesOf(buf: Buffer, start: number, end: number): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
}

/** Decoded text, or null when the bytes are not valid UTF-8 (decoding would replace them and lose data). */
function text(buf: Buffer, start: number, end: number): string | null {
  const view = buf.subarray(start, end);
  return isUtf8(view) ? view.toString('utf8') : null;
}

function failed(buf: Buffer, start: number, end: number, line: string | null, reason: string): LogContent[] {
  const value = line ?? bytesOf(buf, start, end);
  return [
    { key: CONTENT_KEY, value },
    { key: PARSE_ERROR_KEY, value: reason },
  ];
}

function parseJson(buf: Buffer, start: number, end: number): LogContent[] {
  const line = text(buf, start, end);
  if (line === null) return failed(buf, start, end, null, 'invalid UTF-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    return failed(buf, start, end, line, (err as Error).message.split('\n')[0]);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return failed(buf, start, end, line, 'not a JSON object');
  }
  const contents: LogContent[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    contents.push({ key, value: typeof value === 'string' ? value : JSON.stringify(value) });
  }
  return contents;
}

function regexParser(pattern: string): LineParser {
  const regex = new RegExp(pattern);
  if (!/\(\?<[A-Za-z_$][\w$]*>/.test(pattern)) throw new Error('regex parser pattern has no named group (?<name>…)');
  return (buf, start, end) => {
    const line = text(buf, start, end);
    if (line === null) return failed(buf, start, end, null, 'invalid UTF-8');
    const groups = regex.exec(line)?.groups;
    if (!groups) return failed(buf, start, end, line, 'no match');
    const contents: LogContent[] = [];
    for (const [key, value] of Object.entries(groups)) {
      if (value !== undefined) contents.push({ key, value });
    }
    return contents;
  };
}
