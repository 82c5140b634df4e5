// The input stage's public contract: what a file input is configured with and what it hands downstream.
import type { LogTag } from '../wire/loggroup.js';
import type { ContainerFormat } from './container-format.js';
import type { MetadataPlacement } from './path-metadata.js';
import type { RateLimitConfig } from './rate-limit.js';

export type ParserConfig = { type: 'raw' } | { type: 'json' } | { type: 'regex'; pattern: string /* named groups */ };

export interface MultilineConfig {
  /** A line matching this starts a new event; other lines are appended to the current one. */
  startPattern: string;
  /** Quiet time after which a pending event is emitted. Default 1000. */
  flushTimeoutMs: number;
  /** An event is emitted once it holds this many lines. */
  maxLines?: number;
}

export interface InputConfig {
  /** Globs: `*`, `**`, `?`, `[…]`, `{a,b}`; relative ones are resolved against the working directory. */
  paths: string[];
  /** Globs of paths to skip; a pattern without `/` is matched against the file name alone. */
  exclude?: string[];
  topic?: string;
  /** Default: the hostname. */
  source?: string;
  /** Default raw. */
  parser?: ParserConfig;
  /**
   * Where a file found at startup without a checkpoint starts: 0, or its size at first sight. Default beginning.
   * Files appearing later, and a new file at a path followed before the restart, are always read from 0.
   */
  startAt?: 'beginning' | 'end';
  multiline?: MultilineConfig;
  /**
   * A longer line is not dropped but split into pieces of exactly this many bytes (the last holds the rest), each a log
   * of its own with `__split__` = `<i>/?` while more follow and `<n>/<n>` on the last of n. A multiline event is
   * emitted before it would grow past this size. Default 512 KiB.
   */
  maxLineBytes?: number;
  /** Static contents added to every log. */
  fields?: Record<string, string>;
  tags?: Record<string, string>;
  /** Default 1000. */
  scanIntervalMs?: number;
  /**
   * Default `lines`: each line is a log. `cri` and `docker` decode container runtime logs (partial lines joined, the
   * runtime's time and stream kept); `auto` picks one of them per file from its first line.
   */
  format?: 'lines' | ContainerFormat;
  /** For container formats: where the namespace, pod and container read from the file's path go. Default fields. */
  containerMetadata?: MetadataPlacement;
  /** Files not modified for this long are not opened (until they are written again). */
  ignoreOlderMs?: number;
  /** Reading of this input's files pauses while over these rates. */
  rateLimit?: RateLimitConfig;
  /**
   * A file that has been idle at EOF this long is closed (its position kept) and reopened when a scan or watch event
   * sees it change; reopening checks dev+ino and fingerprint, so a replaced file is not taken for it. Default 300000.
   */
  closeInactiveMs?: number;
}

export interface FileIdentity {
  dev: number;
  ino: number;
  /** Hex sha256 of the first `fingerprintBytes` bytes of the file. */
  fingerprint: string;
  fingerprintBytes: number;
}

export interface FileCheckpoint extends FileIdentity {
  fileId: string;
  path: string;
  offset: number;
}

/** A file as files() reports it: the checkpoint to save once everything returned is acknowledged, plus where this
 *  run began reading it (the safe offset while none of its entries is acknowledged yet). */
export interface InputFile extends FileCheckpoint {
  startOffset: number;
}

/**
 * What the input hands downstream: consecutive logs of one file, already in their protobuf form (LogGroup.Logs
 * fields as encodeLogGroup writes them), so no line ever becomes a JS object on its way to the seal stage.
 */
export interface InputRun {
  /** `count` LogGroup.Logs fields back to back; the i-th ends at `ends[i]`. */
  bytes: Uint8Array;
  ends: Uint32Array;
  /** Per log, the file offset just after it: the checkpoint once it is acknowledged. Growing. */
  offsets: Float64Array;
  count: number;
  /** File offset where the first log's bytes begin: the run covers [startOffset, offsets[count - 1]) of the file. */
  startOffset: number;
  topic: string;
  source: string;
  /** One array per file, shared by all its runs. */
  tags: LogTag[];
  fileId: string;
  /** Position of the configured input the file belongs to (which decides where its logs are sent). */
  input: number;
}

export type InputEvent = {
  type: 'opened' | 'rotated' | 'truncated' | 'finished' | 'removed' | 'error';
  path: string;
  fileId?: string;
  message?: string;
};

/** Per input, counts of what it has done since the start. */
export interface InputStats {
  /** Container log lines that were in neither format, shipped as they were. */
  malformedLines: number;
  /** Time reading was held back by rateLimit. */
  rateLimitedMs: number;
}
