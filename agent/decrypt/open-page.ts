// One PullLogs page (a LogGroupList) opened and rendered: a shipped group per addon call where the addon can
// (agent/native/open-group.c), the JavaScript record layer for every other group. For a view with --where the addon
// only opens the records and the byte renderer of the record layer filters them. The output bytes are the same
// either way; the addon only leaves out the strings and objects of the decoded page.
import { nativeAddon } from '../native/addon.js';
import { decodeLogGroup, decodeLogGroupList, type LogGroup } from '../wire/loggroup.js';
import type { OpenedRecords } from '../seal/index.js';
import type { LogTag } from '../wire/loggroup.js';
import { readUtf8 } from '../wire/utf8.js';
import { GroupNotOpened, missingBlobs, renderOneShipped, type KeyLookup, type RenderedGroups, type SealedFor } from './open-groups.js';
import { FieldTracker, OutputBuilder } from './render.js';
import { NotFastPath, renderRecords } from './render-bytes.js';
import type { CompiledView } from './view.js';

const addon = nativeAddon?.openSealedGroup ? nativeAddon : undefined;
// AES needs Node's own OpenSSL from the addon: where it cannot reach it, AES groups go the JavaScript way.
const nativeSuites = new Set(addon?.sealBatchSuites() ?? []);
const FORMAT_CODES = { ndjson: 0, raw: 1, count: 2 } as const;
const FORMAT_OPENED = 3;
const FIELDS = 6; // per group from pageGroups: start, end, blob start, blob end, flags, logs end
const UNKNOWN = 0xffffffff;
const SM4 = 1;
const LOG_MODE = 2;
const OPEN_DONE = 0;
const OPEN_NO_ROOM = 1;
const EMPTY = Buffer.alloc(0);

/** A group the addon located in the list: where it lies, its suite and mode, and its data key's blob. */
interface LocatedGroup {
  start: number;
  end: number;
  /** Where its Logs end, if only Logs come before (else start): the addon reads the header after it. */
  logsEnd: number;
  suite: number;
  log: boolean;
  blob: string;
}

/** A group of a page: where in the list the addon opens it, or decoded for the record layer. */
export type PageGroup = LocatedGroup | { group: LogGroup };

/** The addon opens groups for a view without --where (which needs each log's decoded fields): see CompiledView.groupLevel. */
export function nativeView(view: CompiledView, trackFields: readonly string[]): boolean {
  return addon !== undefined && view.groupLevel !== undefined && trackFields.length === 0;
}

/** The groups of a LogGroupList, located by the addon when `native`, otherwise decoded. */
export function pageGroups(list: Buffer, native: boolean): PageGroup[] {
  if (!addon || !native) return decodeLogGroupList(list).map((group) => ({ group }));
  let spans = new Uint32Array(FIELDS * 256);
  let n = addon.pageGroups(list, spans);
  while (n === -1) {
    spans = new Uint32Array(spans.length * 4);
    n = addon.pageGroups(list, spans);
  }
  if (n < 0) return decodeLogGroupList(list).map((group) => ({ group }));
  const groups: PageGroup[] = [];
  for (let i = 0; i < n; i++) {
    const at = FIELDS * i;
    const start = spans[at]!, end = spans[at + 1]!, flags = spans[at + 4]!;
    const suite = flags & SM4 ? 'SM4_128_GCM' : 'AES_256_GCM';
    if (flags === UNKNOWN || !nativeSuites.has(suite)) groups.push({ group: decodeLogGroup(list.subarray(start, end)) });
    else groups.push({ start, end, logsEnd: spans[at + 5]!, suite: flags & SM4, log: (flags & LOG_MODE) !== 0, blob: list.toString('utf8', spans[at + 2]!, spans[at + 3]!) });
  }
  return groups;
}

/** The `__seal_dk__` blobs of the page that `keyFor` does not know yet, each once. */
export function missingPageBlobs(groups: readonly PageGroup[], keyFor: KeyLookup): string[] {
  const missing = new Set<string>();
  for (const g of groups) {
    if ('group' in g) for (const blob of missingBlobs([g.group], keyFor)) missing.add(blob);
    else if (!keyFor(g.blob)) missing.add(g.blob);
  }
  return [...missing];
}

/**
 * Opens `groups` in order and renders the logs the view keeps. Stops at the first group that does not open; the
 * output up to it stays valid. Every group's key must be known to `keyFor` (see missingBlobs).
 */
export function renderShipped(
  groups: readonly LogGroup[],
  keyFor: KeyLookup,
  target: SealedFor,
  view: CompiledView,
  trackFields: readonly string[] = [],
  expectedBytes?: number,
): RenderedGroups {
  return renderPage(EMPTY, groups.map((group) => ({ group })), keyFor, target, view, trackFields, expectedBytes);
}

// The opened records of one group (FORMAT_OPENED), reused from group to group.
let opening = Buffer.alloc(0);

/** The records of a located group opened by the addon, or undefined when it leaves the group to the record layer. */
function openedByAddon(g: LocatedGroup, key: Uint8Array, list: Buffer, targetBytes: Buffer, st: Float64Array): OpenedRecords | undefined {
  // A group's plaintext is a few times its sealed size (LZ4); the buffer doubles until it fits.
  if (opening.length < 4 * (g.end - g.start)) opening = Buffer.allocUnsafeSlow(Math.max(1 << 16, 4 * (g.end - g.start)));
  for (;;) {
    st[0] = 0;
    const result = addon!.openSealedGroup(g.suite, key, list, g.start, g.end, g.logsEnd, targetBytes, FORMAT_OPENED, -Infinity, Infinity, EMPTY, opening, st);
    if (result === OPEN_DONE) return readOpened(opening, st[0]!, g.log);
    if (result !== OPEN_NO_ROOM) return undefined;
    opening = Buffer.allocUnsafeSlow(opening.length * 2);
  }
}

/** FORMAT_OPENED as open-group.c lays it out: little-endian 32-bit numbers, texts as a length and their bytes. */
function readOpened(b: Buffer, end: number, log: boolean): OpenedRecords {
  let at = 0;
  const u32 = (): number => {
    at += 4;
    return b.readUInt32LE(at - 4);
  };
  const bytes = (): Buffer => {
    const n = u32();
    at += n;
    return b.subarray(at - n, at);
  };
  const text = (): string => {
    const t = bytes();
    return readUtf8(b, t.byteOffset - b.byteOffset, t.byteOffset - b.byteOffset + t.length);
  };
  if (!log) {
    const records: Array<{ plaintext: Uint8Array; time: number }> = [];
    while (at < end) {
      const time = u32();
      records.push({ time, plaintext: bytes() });
    }
    return { mode: 'group', records };
  }
  const hasTopic = u32() !== 0;
  const topic = text();
  const hasSource = u32() !== 0;
  const source = text();
  const logTags: LogTag[] = [];
  for (let n = u32(); n > 0; n--) logTags.push({ key: text(), value: text() });
  const records: Array<{ contents: Uint8Array; time: number; timeNs?: number }> = [];
  while (at < end) {
    const time = u32();
    const hasNs = u32() !== 0;
    const timeNs = u32();
    const contents = bytes();
    records.push(hasNs ? { contents, time, timeNs } : { contents, time });
  }
  return { mode: 'log', records, logTags, ...(hasTopic ? { topic } : {}), ...(hasSource ? { source } : {}) };
}

/** The logs read when the addon printed the group into `out`, or undefined (nothing written) when it left it. */
function printedByAddon(g: LocatedGroup, key: Uint8Array, list: Buffer, targetBytes: Buffer, view: CompiledView, out: OutputBuilder, st: Float64Array): number | undefined {
  const filter = view.groupLevel ?? { from: -Infinity, to: Infinity, conditions: EMPTY };
  let result: number;
  do {
    st[0] = out.pos;
    st[1] = 0;
    st[2] = 0;
    result = addon!.openSealedGroup(g.suite, key, list, g.start, g.end, g.logsEnd, targetBytes, FORMAT_CODES[view.format], filter.from, filter.to, filter.conditions, out.buf, st);
    if (result === OPEN_NO_ROOM) out.ensure(out.buf.length - out.pos + 1); // twice the size
  } while (result === OPEN_NO_ROOM);
  if (result !== OPEN_DONE) return undefined;
  out.pos = st[0]!;
  out.lines += st[1]!;
  return st[2]!;
}

/** The logs read when the addon opened the records and the byte renderer filtered them into `out`, or undefined. */
function filteredFromAddon(
  g: LocatedGroup,
  key: Uint8Array,
  list: Buffer,
  targetBytes: Buffer,
  view: CompiledView,
  out: OutputBuilder,
  fields: FieldTracker | undefined,
  st: Float64Array,
): number | undefined {
  const records = openedByAddon(g, key, list, targetBytes, st);
  if (!records) return undefined;
  const mark = out.mark();
  try {
    return renderRecords(records, view.format, view.keepLookup, out, fields);
  } catch (err) {
    if (!(err instanceof NotFastPath)) throw err;
    out.reset(mark);
    return undefined;
  }
}

/**
 * Opens the page's groups in order and renders the logs the view keeps; stops at the first group that does not open,
 * as renderShipped does. Every group's key must be known to `keyFor` (see missingPageBlobs).
 */
export function renderPage(
  list: Buffer,
  groups: readonly PageGroup[],
  keyFor: KeyLookup,
  target: SealedFor,
  view: CompiledView,
  trackFields: readonly string[],
  expectedBytes?: number,
  into?: Buffer,
): RenderedGroups {
  const out = new OutputBuilder(view.format === 'count' ? 0 : expectedBytes, view.format === 'count' ? undefined : into);
  const fields = new FieldTracker(trackFields);
  const tracking = trackFields.length > 0;
  const targetBytes = Buffer.from(`${target.project}|${target.logstore}|`, 'utf8');
  const st = new Float64Array(3);
  const native = nativeView(view, trackFields);
  let logs = 0;
  let opened = 0;
  let failure: string | undefined;
  for (const g of groups) {
    const mark = out.mark();
    try {
      if ('group' in g) {
        logs += renderOneShipped(g.group, keyFor, target, view, fields, tracking, out);
      } else {
        const key = keyFor(g.blob);
        if (!key) throw new RangeError('renderPage: no data key for the group: load it first');
        // Without --where the addon prints the group; with it, the addon opens the records and the byte renderer
        // filters them. Either way a group the addon leaves goes to the record layer.
        const read = native
          ? printedByAddon(g, key, list, targetBytes, view, out, st)
          : filteredFromAddon(g, key, list, targetBytes, view, out, tracking ? fields : undefined, st);
        logs += read ?? renderOneShipped(decodeLogGroup(list.subarray(g.start, g.end)), keyFor, target, view, fields, tracking, out);
      }
    } catch (err) {
      if (!(err instanceof GroupNotOpened)) throw err;
      out.reset(mark);
      failure = err.message;
      break;
    }
    opened++;
  }
  return { out: out.finish(), lines: out.lines, logs, groups: opened, seen: fields.seen, ...(failure !== undefined ? { failure } : {}) };
}
