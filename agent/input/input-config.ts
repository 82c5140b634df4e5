// Validates an InputConfig and settles its defaults once, so tailers work from a ready-made form.
import type { LogContent, LogTag } from '../wire/loggroup.js';
import { PathMatcher } from './glob.js';
import type { MultilineRules } from './multiline.js';
import { createParser, type LineParser } from './parser.js';
import type { ContainerFormat } from './container-format.js';
import type { MetadataPlacement } from './path-metadata.js';
import { RateLimiter } from './rate-limit.js';
import type { InputConfig } from './types.js';

export const DEFAULT_MAX_LINE_BYTES = 512 * 1024;
export const DEFAULT_SCAN_INTERVAL_MS = 1000;
export const DEFAULT_FLUSH_TIMEOUT_MS = 1000;
export const DEFAULT_CLOSE_INACTIVE_MS = 5 * 60_000;

/** A configuration the input cannot run with; the message names the input and key, on one line. */
export class InputConfigError extends Error {
  override name = 'InputConfigError';
}

export interface CompiledInput {
  /** Position in the configured list: the first input whose globs match a path owns it. */
  index: number;
  matcher: PathMatcher;
  topic: string;
  source: string;
  parse: LineParser;
  /** The raw parser: a line becomes its one content as is, written without the parser. */
  raw: boolean;
  startAt: 'beginning' | 'end';
  multiline?: MultilineRules;
  maxLineBytes: number;
  fields: LogContent[];
  tags: LogTag[];
  scanIntervalMs: number;
  /** Undefined: plain lines. */
  format?: ContainerFormat;
  containerMetadata: MetadataPlacement;
  ignoreOlderMs?: number;
  rate?: RateLimiter;
  /** Counted by the tailers of this input's files. */
  malformedLines: number;
  /** A file idle at EOF this long has its handle closed; a change seen by a scan or watch event reopens it. */
  closeInactiveMs: number;
}

function oneLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

export function compileInput(config: InputConfig, index: number, hostname: string): CompiledInput {
  const where = `inputs[${index}]`;
  const fail = (key: string, why: string): never => {
    throw new InputConfigError(`${where}.${key}: ${why}`);
  };
  if (!Array.isArray(config.paths) || config.paths.length === 0) fail('paths', 'at least one glob is required');
  const positive = (key: string, v: number | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isFinite(v) || v <= 0) fail(key, `expected a positive number, got ${v}`);
    return v;
  };
  const maxLineBytes = Math.floor(positive('maxLineBytes', config.maxLineBytes, DEFAULT_MAX_LINE_BYTES));
  const scanIntervalMs = positive('scanIntervalMs', config.scanIntervalMs, DEFAULT_SCAN_INTERVAL_MS);
  const closeInactiveMs = positive('closeInactiveMs', config.closeInactiveMs, DEFAULT_CLOSE_INACTIVE_MS);

  let parse: LineParser;
  try {
    parse = createParser(config.parser);
  } catch (err) {
    return fail('parser', oneLine(err));
  }

  let multiline: MultilineRules | undefined;
  if (config.multiline) {
    let start: RegExp;
    try {
      start = new RegExp(config.multiline.startPattern);
    } catch (err) {
      return fail('multiline.startPattern', oneLine(err));
    }
    multiline = {
      start,
      maxLines: Math.floor(positive('multiline.maxLines', config.multiline.maxLines, Number.MAX_SAFE_INTEGER)),
      maxBytes: maxLineBytes,
      flushTimeoutMs: positive('multiline.flushTimeoutMs', config.multiline.flushTimeoutMs, DEFAULT_FLUSH_TIMEOUT_MS),
    };
  }

  const format = config.format === 'lines' ? undefined : config.format;
  if (format !== undefined && !['cri', 'docker', 'auto'].includes(format)) fail('format', `expected lines, cri, docker or auto, got ${format}`);
  // Joining continuation lines would need each line's stream and time carried through the joiner: not supported yet.
  if (format !== undefined && multiline) fail('multiline', `cannot be combined with format ${format}`);
  const ignoreOlderMs = config.ignoreOlderMs === undefined ? undefined : positive('ignoreOlder', config.ignoreOlderMs, 0);
  const { linesPerSecond, bytesPerSecond } = config.rateLimit ?? {};
  positive('rateLimit.linesPerSecond', linesPerSecond, 1);
  positive('rateLimit.bytesPerSecond', bytesPerSecond, 1);

  return {
    index,
    matcher: new PathMatcher(config.paths, config.exclude ?? []),
    topic: config.topic ?? '',
    source: config.source ?? hostname,
    parse,
    raw: (config.parser?.type ?? 'raw') === 'raw',
    startAt: config.startAt ?? 'beginning',
    multiline,
    maxLineBytes,
    fields: Object.entries(config.fields ?? {}).map(([key, value]) => ({ key, value })),
    tags: Object.entries(config.tags ?? {}).map(([key, value]) => ({ key, value })),
    scanIntervalMs,
    format,
    containerMetadata: config.containerMetadata ?? 'fields',
    ignoreOlderMs,
    rate: linesPerSecond || bytesPerSecond ? new RateLimiter({ linesPerSecond, bytesPerSecond }) : undefined,
    malformedLines: 0,
    closeInactiveMs,
  };
}
