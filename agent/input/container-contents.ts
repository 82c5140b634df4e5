// The contents of a log made from a decoded container line: the line through the input's parser, its stream, the fields.
import type { LogContent } from '../wire/loggroup.js';
import { STREAM_KEY, type LineStamp } from './container-format.js';
import { CONTENT_KEY, PARSE_ERROR_KEY, SPLIT_KEY, type LineParser } from './parser.js';

function view(buf: Buffer, start: number, end: number): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
}

export function decodedContents(
  parse: LineParser,
  buf: Buffer,
  start: number,
  end: number,
  stamp: LineStamp,
  marker: string | undefined,
  fields: LogContent[],
): LogContent[] {
  // Pieces skip the parser, as the framer's do: a fragment of a JSON line would only fail to parse.
  const contents =
    marker === undefined ? parse(buf, start, end) : [{ key: CONTENT_KEY, value: view(buf, start, end) }, { key: SPLIT_KEY, value: marker }];
  contents.push({ key: STREAM_KEY, value: stamp.stream });
  for (const field of fields) contents.push(field);
  return contents;
}

/** A line in neither container format: as it is, with why. */
export function malformedContents(buf: Buffer, start: number, end: number, reason: string, fields: LogContent[]): LogContent[] {
  const contents: LogContent[] = [
    { key: CONTENT_KEY, value: view(buf, start, end) },
    { key: PARSE_ERROR_KEY, value: reason },
  ];
  for (const field of fields) contents.push(field);
  return contents;
}
