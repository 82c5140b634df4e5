// What a reader asks for: the output format and the filters (--from/--to, --topic, --source, --tag, --where) as one predicate.
import type { PlainLogLine } from './plain-log.js';
import { compileWhere, compileWhereLookup, type FieldLookup, type WhereExpr } from './where.js';

export type OutputFormat = 'ndjson' | 'raw' | 'count';

/** Plain data (it crosses to worker threads by structured clone). */
export interface ReadView {
  format: OutputFormat;
  /** The user's --where expression. */
  where?: WhereExpr;
  /** Keep logs whose own time (unix seconds) is >= fromTime and < toTime. */
  fromTime?: number;
  toTime?: number;
  topic?: string;
  source?: string;
  /** Each tag must be present with this value. */
  tags?: Array<[string, string]>;
}

/** The view's filters as one expression; undefined when it keeps every log. */
export function viewExpr(view: ReadView): WhereExpr | undefined {
  const parts: WhereExpr[] = [];
  if (view.fromTime !== undefined) parts.push({ kind: 'cmp', field: '__time__', op: '>=', value: view.fromTime });
  if (view.toTime !== undefined) parts.push({ kind: 'cmp', field: '__time__', op: '<', value: view.toTime });
  if (view.topic !== undefined) parts.push({ kind: 'cmp', field: '__topic__', op: '=', value: view.topic });
  if (view.source !== undefined) parts.push({ kind: 'cmp', field: '__source__', op: '=', value: view.source });
  for (const [k, v] of view.tags ?? []) parts.push({ kind: 'cmp', field: `__tag__:${k}`, op: '=', value: v });
  if (view.where) parts.push(view.where);
  return parts.reduce<WhereExpr | undefined>((acc, e) => (acc ? { kind: 'and', left: acc, right: e } : e), undefined);
}

/** A view ready to apply: the filter over plaintext logs, and over a field lookup (undefined: keeps every log). */
export interface CompiledView {
  format: OutputFormat;
  keep: (log: PlainLogLine) => boolean;
  keepLookup: ((get: FieldLookup) => boolean) | undefined;
  /**
   * The view as a page opener that reads no log's fields applies it, when it can (no --where): the logs kept are
   * those with from <= time < to whose group meets `conditions` (topic, source and tag equalities, see conditionBytes).
   */
  groupLevel?: { from: number; to: number; conditions: Uint8Array };
}

/** Topic (t), source (s) and tag (g) equalities as entries of a kind byte, then key and value each as LE32 length + UTF-8. */
function conditionBytes(view: ReadView): Uint8Array | undefined {
  const entries: Array<[string, string, string]> = [];
  if (view.topic !== undefined) entries.push(['t', '', view.topic]);
  if (view.source !== undefined) entries.push(['s', '', view.source]);
  for (const [k, v] of view.tags ?? []) entries.push(['g', k, v]);
  const parts: Buffer[] = [];
  for (const [kind, key, value] of entries) {
    const k = Buffer.from(key, 'utf8');
    const v = Buffer.from(value, 'utf8');
    // A lone surrogate has no UTF-8: such a value is compared by the JavaScript path.
    if (k.toString('utf8') !== key || v.toString('utf8') !== value) return undefined;
    const head = Buffer.alloc(5);
    head[0] = kind.charCodeAt(0);
    head.writeUInt32LE(k.length, 1);
    const mid = Buffer.alloc(4);
    mid.writeUInt32LE(v.length, 0);
    parts.push(head, k, mid, v);
  }
  return Buffer.concat(parts);
}

export function compileView(view: ReadView): CompiledView {
  const expr = viewExpr(view);
  const compiled: CompiledView = { format: view.format, keep: expr ? compileWhere(expr) : () => true, keepLookup: expr ? compileWhereLookup(expr) : undefined };
  const conditions = view.where === undefined ? conditionBytes(view) : undefined;
  if (conditions) compiled.groupLevel = { from: view.fromTime ?? -Infinity, to: view.toTime ?? Infinity, conditions };
  return compiled;
}
