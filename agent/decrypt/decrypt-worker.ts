// Body of a decrypt worker thread: decompresses and decodes one PullLogs body, opens its groups, filters and renders them.
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { decompressBody, type PulledBody } from '../ship/pull-body.js';
import type { RenderedGroups, SealedFor } from './open-groups.js';
import { missingPageBlobs, pageGroups, renderPage } from './open-page.js';
import { compileView, type CompiledView, type ReadView } from './view.js';

/** The body moved here, or where it lies in the pool's shared memory. */
type PageSource = Pick<PulledBody, 'compressType' | 'rawSize'> & ({ body: Uint8Array } | { bodySlot: number; length: number });

export interface PageTask {
  page: PageSource;
  target: SealedFor;
  view: ReadView;
  trackFields: string[];
  /** Keys this thread may not have yet; their memory is shared with the main thread, which zeroes it on close. */
  keys: Array<{ blob: string; key: Uint8Array }>;
  /** The output slot (DecryptPool's shared memory) to write into, if one was free. */
  slot?: number;
}

/** What the pool shares with every thread once, when it starts (piscina's workerData). */
export interface DecryptWorkerData {
  slots: SharedArrayBuffer[];
  bodySlots: SharedArrayBuffer[];
}

/**
 * Either the page's output (`out`, moved here, or the first `length` bytes of `slot`), or the blobs whose keys the
 * main thread must load first (the body handed back when it was moved here).
 */
export type PageOutcome =
  | ({ kind: 'done' } & Omit<RenderedGroups, 'out' | 'release'> & ({ out: Buffer } | { slot: number; length: number }))
  | { kind: 'keys'; blobs: string[]; body?: Uint8Array };

const keys = new Map<string, Uint8Array>();
const compiled = new Map<string, CompiledView>();
const shared = workerData as DecryptWorkerData | undefined;
const slots = shared?.slots ?? [];
const bodySlots = shared?.bodySlots ?? [];

function filterFor(view: ReadView): CompiledView {
  const id = JSON.stringify(view);
  let f = compiled.get(id);
  if (!f) {
    if (compiled.size > 16) compiled.clear();
    f = compileView(view);
    compiled.set(id, f);
  }
  return f;
}

// The decompressed page lives only during its task: one buffer serves page after page.
let scratch = Buffer.alloc(0);
function scratchOf(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, Math.floor(scratch.length * 1.5)));
  return scratch;
}

/** Sealed base64 of LZ4-packed text: NDJSON comes out at about 4× the LogGroupList bytes, raw content at about 2×. */
function outputGuess(task: PageTask): number {
  return task.page.rawSize * (task.view.format === 'raw' ? 2 : 4);
}

export default function openPageInWorker(task: PageTask): unknown {
  for (const { blob, key } of task.keys) keys.set(blob, key);
  const source = task.page;
  const body = 'body' in source ? source.body : Buffer.from(bodySlots[source.bodySlot]!, 0, source.length);
  const list = decompressBody({ body, compressType: source.compressType, rawSize: source.rawSize }, scratchOf);
  const view = filterFor(task.view);
  const groups = pageGroups(list, true);
  const keyFor = (blob: string) => keys.get(blob);
  const blobs = missingPageBlobs(groups, keyFor);
  if (blobs.length > 0) {
    if (!('body' in source)) return { kind: 'keys', blobs } satisfies PageOutcome;
    return move({ [transferableSymbol]: [body.buffer], [valueSymbol]: { kind: 'keys', blobs, body } } as unknown as Parameters<typeof move>[0]);
  }
  const slot = task.slot !== undefined ? slots[task.slot] : undefined;
  const into = slot ? Buffer.from(slot) : undefined;
  const { out, ...rendered } = renderPage(list, groups, keyFor, task.target, view, task.trackFields, outputGuess(task), into);
  if (into && out.buffer === into.buffer) return { kind: 'done', ...rendered, slot: task.slot!, length: out.length } satisfies PageOutcome;
  const own = out.buffer.byteLength === out.byteLength ? out : Buffer.from(Uint8Array.prototype.slice.call(out).buffer);
  return move({ [transferableSymbol]: [own.buffer], [valueSymbol]: { kind: 'done', ...rendered, out: own } } as unknown as Parameters<typeof move>[0]);
}
