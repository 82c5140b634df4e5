// Body of a decrypt worker thread: decompresses and decodes one PullLogs body, opens its groups, filters and renders them.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { decompressBody, type PulledBody } from '../ship/pull-body.js';
import { decodeLogGroupList } from '../wire/loggroup.js';
import { missingBlobs, renderShipped, type RenderedGroups, type SealedFor } from './open-groups.js';
import { compileView, type CompiledView, type ReadView } from './view.js';

export interface PageTask {
  page: Pick<PulledBody, 'body' | 'compressType' | 'rawSize'>;
  target: SealedFor;
  view: ReadView;
  trackFields: string[];
  /** Keys this thread may not have yet; their memory is shared with the main thread, which zeroes it on close. */
  keys: Array<{ blob: string; key: Uint8Array }>;
}

/** Either the page's output, or the blobs whose keys the main thread must load first (the body handed back). */
export type PageOutcome = ({ kind: 'done' } & RenderedGroups) | { kind: 'keys'; blobs: string[]; body: Uint8Array };

const keys = new Map<string, Uint8Array>();
const compiled = new Map<string, CompiledView>();

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

/** Sealed base64 of LZ4-packed text: NDJSON comes out at about 4× the LogGroupList bytes, raw content at about 2×. */
function outputGuess(task: PageTask): number {
  return task.page.rawSize * (task.view.format === 'raw' ? 2 : 4);
}

export default function openPageInWorker(task: PageTask): unknown {
  for (const { blob, key } of task.keys) keys.set(blob, key);
  const groups = decodeLogGroupList(decompressBody(task.page));
  const keyFor = (blob: string) => keys.get(blob);
  const blobs = missingBlobs(groups, keyFor);
  if (blobs.length > 0) {
    const body = task.page.body;
    return move({ [transferableSymbol]: [body.buffer], [valueSymbol]: { kind: 'keys', blobs, body } } as unknown as Parameters<typeof move>[0]);
  }
  const rendered = renderShipped(groups, keyFor, task.target, filterFor(task.view), task.trackFields, outputGuess(task));
  const out = rendered.out.buffer.byteLength === rendered.out.byteLength ? rendered.out : Uint8Array.from(rendered.out);
  const outcome = { kind: 'done', ...rendered, out };
  return move({ [transferableSymbol]: [out.buffer], [valueSymbol]: outcome } as unknown as Parameters<typeof move>[0]);
}
