// A shipped Log as GetLogs returns it (contents plus `__time__`, `__topic__`, `__source__`, `__tag__:<key>`), back
// into the one-Log LogGroup it came from, so the v1 reader can open it.
import type { QueriedLog } from '../ship/index.js';
import type { Log, LogGroup, LogTag } from '../wire/loggroup.js';

/** The tags a v1 reader needs first and in this order (FORMAT.md "Header tags"), then the searchable-fields tag. */
const HEADER_ORDER = ['__seal_v__', '__seal_alg__', '__seal_mode__', '__seal_cmk__', '__seal_dk__', '__seal_zip__', '__seal_bi__'];
const RECORD_ORDER = ['__sealed__', '__raw__'];
const TAG_PREFIX = '__tag__:';
const TOKEN_KEY = /^__bi_.+__$/;

/** A GetLogs answer that cannot be a shipped Log (no `__time__`, say). */
export class QueriedLogError extends Error {
  override readonly name = 'QueriedLogError';
}

/**
 * The LogGroup holding just this shipped Log, with its group's tags. A JSON object does not promise an order of
 * its keys, so header tags are put back in FORMAT.md's order; the other tags (the plaintext group's, in mode
 * `log`) follow in the order they came.
 */
export function shippedGroupOf(row: QueriedLog): LogGroup {
  const time = Number(row.__time__);
  if (!Number.isInteger(time) || time < 0) throw new QueriedLogError('a GetLogs log without a valid __time__');
  const contents = RECORD_ORDER.filter((k) => k in row).map((key) => ({ key, value: row[key] }));
  for (const [key, value] of Object.entries(row)) if (TOKEN_KEY.test(key)) contents.push({ key, value });
  const log: Log = { time, contents };
  const ns = row.__time_ns_part__;
  if (ns !== undefined && /^\d{1,10}$/.test(ns)) log.timeNs = Number(ns);

  const header: LogTag[] = [];
  for (const key of HEADER_ORDER) if (TAG_PREFIX + key in row) header.push({ key, value: row[TAG_PREFIX + key] });
  const others: LogTag[] = [];
  for (const [k, value] of Object.entries(row)) {
    if (k.startsWith(TAG_PREFIX) && !HEADER_ORDER.includes(k.slice(TAG_PREFIX.length))) others.push({ key: k.slice(TAG_PREFIX.length), value });
  }
  const group: LogGroup = { logs: [log], logTags: [...header, ...others] };
  if (row.__topic__) group.topic = row.__topic__;
  if (row.__source__) group.source = row.__source__;
  return group;
}
