// Writes the logs made from decoded container lines: the line through the input's parser, its stream, the fields.
import { canFrameCriLines, criExtras, encodeContents, type LogWriter } from '../wire/log-writer.js';
import type { LogContent } from '../wire/loggroup.js';
import { STREAM_KEY, type ContainerDecoder, type LineStamp } from './container-format.js';
import type { LineSink } from './framer.js';
import { CONTENT_KEY, PARSE_ERROR_KEY, SPLIT_KEY, type LineParser } from './parser.js';

function view(buf: Buffer, start: number, end: number): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
}

export class ContainerLogWriter {
  /** For raw lines: the stream and the fields, encoded once per stream, appended as the writer's fast path does. */
  private readonly rawExtra: Record<string, Uint8Array>;

  constructor(
    private readonly writer: LogWriter,
    private readonly parse: LineParser | undefined,
    private readonly fields: LogContent[],
  ) {
    const extra = (stream: string) => encodeContents([{ key: STREAM_KEY, value: stream }, ...fields]);
    this.rawExtra = { stdout: extra('stdout'), stderr: extra('stderr') };
  }

  /**
   * For raw lines, when the addon frames CRI: the framer's bulk `lines`, taking the complete `F` lines of a chunk in
   * one native call while the decoder has nothing pending; it stops at any other line, which the decoder then takes.
   */
  bulkLines(decoder: ContainerDecoder, offsets: (n: number) => Float64Array): LineSink['lines'] {
    if (this.parse !== undefined || !canFrameCriLines) return undefined;
    const extras = criExtras(this.rawExtra.stdout, this.rawExtra.stderr);
    return (buf, start, end, max, fileOffset) =>
      decoder.betweenCriLines ? this.writer.criLines(buf, start, end, max, fileOffset, offsets, extras) : start;
  }

  /** A decoded line or piece, written with the runtime's time. `parse` undefined: the raw parser. */
  line(buf: Buffer, start: number, end: number, stamp: LineStamp, marker: string | undefined): void {
    if (marker === undefined && this.parse === undefined) {
      this.writer.line(stamp.time, stamp.timeNs, buf, start, end, this.rawExtra[stamp.stream]);
      return;
    }
    // Pieces skip the parser, as the framer's do: a fragment of a JSON line would only fail to parse.
    const contents =
      marker === undefined
        ? this.parse!(buf, start, end)
        : [
            { key: CONTENT_KEY, value: view(buf, start, end) },
            { key: SPLIT_KEY, value: marker },
          ];
    contents.push({ key: STREAM_KEY, value: stamp.stream });
    for (const field of this.fields) contents.push(field);
    this.writer.log({ time: stamp.time, contents, timeNs: stamp.timeNs });
  }

  /** A line in neither container format: as it is, with why, at the time it was read. */
  malformed(buf: Buffer, start: number, end: number, reason: string, time: number, timeNs: number): void {
    const contents: LogContent[] = [
      { key: CONTENT_KEY, value: view(buf, start, end) },
      { key: PARSE_ERROR_KEY, value: reason },
    ];
    for (const field of this.fields) contents.push(field);
    this.writer.log({ time, contents, timeNs });
  }
}
