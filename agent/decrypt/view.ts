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
  /** The logs kept are those with from <= time < to, and no other filter applies (a view of --from/--to alone). */
  timeOnly?: { from: number; to: number };
}

export function compileView(view: ReadView): CompiledView {
  const expr = viewExpr(view);
  const compiled: CompiledView = { format: view.format, keep: expr ? compileWhere(expr) : () => true, keepLookup: expr ? compileWhereLookup(expr) : undefined };
  if (view.where === undefined && view.topic === undefined && view.source === undefined && (view.tags ?? []).length === 0) {
    compiled.timeOnly = { from: view.fromTime ?? -Infinity, to: view.toTime ?? Infinity };
  }
  return compiled;
}
