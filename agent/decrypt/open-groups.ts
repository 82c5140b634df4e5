// Opens shipped (sealed) LogGroups with data keys already at hand, and renders what passes the view: the work of a
// decrypt worker thread, also used directly for groups from elsewhere (GetLogs results, dead-letter files).
import { AuthenticationError, openGroup, openRecords, SealFormatError, type OpenedRecords } from '../seal/index.js';
import { decodeLogGroup, type LogGroup } from '../wire/loggroup.js';
import type { PlainLogLine } from './plain-log.js';
import { plainLines, renderGroup, type FieldTracker, type OutputBuilder } from './render.js';
import { NotFastPath, renderRecords } from './render-bytes.js';
import type { CompiledView } from './view.js';

const DATA_KEY_TAG = '__seal_dk__';
const VERSION_TAG = '__seal_v__';

/** Project and Logstore the groups were sealed for (part of every record's AAD). */
export interface SealedFor {
  project: string;
  logstore: string;
}

export type KeyLookup = (blob: string) => Uint8Array | undefined;

/** The `__seal_dk__` blobs of `groups` that `keyFor` does not know yet, each once. */
export function missingBlobs(groups: readonly LogGroup[], keyFor: KeyLookup): string[] {
  const missing = new Set<string>();
  for (const g of groups) {
    const blob = g.logTags.find((t) => t.key === DATA_KEY_TAG)?.value;
    if (blob && !keyFor(blob)) missing.add(blob);
  }
  return [...missing];
}

/** Why a shipped group does not open, in words for UnsealError; undefined when it opened. */
export class GroupNotOpened extends Error {
  override readonly name = 'GroupNotOpened';
}

function checkedKey(shipped: LogGroup, keyFor: KeyLookup): Uint8Array {
  const version = shipped.logTags.find((t) => t.key === VERSION_TAG)?.value;
  if (version !== '1') {
    throw new GroupNotOpened(version === undefined ? 'LogGroup is not sealed by logseal (no __seal_v__ tag)' : `unknown __seal_v__ ${version}`);
  }
  const blob = shipped.logTags.find((t) => t.key === DATA_KEY_TAG)?.value;
  if (!blob) throw new GroupNotOpened('sealed LogGroup has no __seal_dk__ tag');
  const key = keyFor(blob);
  if (!key) throw new RangeError('openShipped: no data key for the group: load it first');
  return key;
}

function notOpened<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof AuthenticationError) throw new GroupNotOpened(`record does not authenticate (${err.message})`);
    if (err instanceof SealFormatError) throw new GroupNotOpened(err.message);
    throw err;
  }
}

/** Opens one shipped group into its plaintext groups; throws GroupNotOpened with the reason. */
export function openShipped(shipped: LogGroup, keyFor: KeyLookup, target: SealedFor): LogGroup[] {
  const key = checkedKey(shipped, keyFor);
  return notOpened(() => openGroup(shipped, () => key, target));
}

export interface RenderedGroups {
  /** Output bytes of the groups before the first that did not open. */
  out: Buffer;
  /** Lines that passed the filter (the number `--count` prints). */
  lines: number;
  /** Plaintext logs read, before the filter. */
  logs: number;
  /** Groups opened. */
  groups: number;
  /** Which of the tracked --where fields occurred. */
  seen: string[];
  /** Set when a group did not open: nothing of it, or after it, is in `out`. */
  failure?: string;
  /** Hands `out`'s memory back once it is written, when it is on loan from the reader (DecryptPool). */
  release?: () => void;
}

/**
 * Opens one shipped group and renders the logs the view keeps into `out`; returns the logs read. Throws
 * GroupNotOpened (the caller resets `out` to where the group began). Its key must be known to `keyFor`.
 */
export function renderOneShipped(shipped: LogGroup, keyFor: KeyLookup, target: SealedFor, view: CompiledView, fields: FieldTracker, tracking: boolean, out: OutputBuilder): number {
  const key = checkedKey(shipped, keyFor);
  const records: OpenedRecords = notOpened(() => openRecords(shipped, () => key, target));
  const mark = out.mark();
  try {
    return renderRecords(records, view.format, view.keepLookup, out, tracking ? fields : undefined);
  } catch (err) {
    if (!(err instanceof NotFastPath)) throw err;
    out.reset(mark);
    let logs = 0;
    for (const g of openShipped(shipped, keyFor, target)) {
      logs += g.logs.length;
      renderGroup(g, view.format, view.keep, out, fields);
    }
    return logs;
  }
}

/** The plaintext logs of one shipped group (a LogGroup, or its protobuf bytes); throws GroupNotOpened. */
export function openShippedLines(shipped: LogGroup | Uint8Array, keyFor: KeyLookup, target: SealedFor): PlainLogLine[] {
  const group = shipped instanceof Uint8Array ? decodeLogGroup(shipped) : shipped;
  return openShipped(group, keyFor, target).flatMap((g) => [...plainLines(g)]);
}
