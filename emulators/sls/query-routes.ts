// Query calls: GetLogs (the query subset in query.ts) and the index API (CreateIndex, UpdateIndex, GetIndex, DeleteIndex).
import { decodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';
import { SlsApiError } from './errors.js';
import { OK_EMPTY, type ApiRequest, type EmulatorState, type Reply } from './context.js';
import { parseIndexBody } from './index-config.js';
import { matches, parseQuery, type Fields } from './query.js';

/** GetLogs returns at most this many logs per call (`line`). */
const MAX_LINES = 100;

function jsonBody(req: ApiRequest): unknown {
  const type = req.headers['content-type'];
  if (req.body.length === 0) throw new SlsApiError('ParameterInvalid', 'request body must be a JSON object.');
  if (type === undefined || type.split(';')[0]!.trim() !== 'application/json') {
    throw new SlsApiError('InvalidContentType', `Content-Type ${type ?? '(none)'} is unsupported, expected application/json.`);
  }
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new SlsApiError('PostBodyInvalid', 'request body is not valid JSON.');
  }
}

export async function createIndex(state: EmulatorState, req: ApiRequest, logstore: string): Promise<Reply> {
  await state.catalog.get(req.project, logstore).setIndex(parseIndexBody(jsonBody(req)), true);
  return OK_EMPTY;
}

export async function updateIndex(state: EmulatorState, req: ApiRequest, logstore: string): Promise<Reply> {
  await state.catalog.get(req.project, logstore).setIndex(parseIndexBody(jsonBody(req)), false);
  return OK_EMPTY;
}

export function getIndex(state: EmulatorState, req: ApiRequest, logstore: string): Reply {
  const index = state.catalog.get(req.project, logstore).index;
  if (!index) throw new SlsApiError('IndexConfigNotExist', `logstore ${logstore} has no index config.`);
  return { status: 200, json: index };
}

export async function deleteIndex(state: EmulatorState, req: ApiRequest, logstore: string): Promise<Reply> {
  await state.catalog.get(req.project, logstore).deleteIndex();
  return OK_EMPTY;
}

function integerParam(req: ApiRequest, name: string, fallback: number | undefined, min: number, max: number): number {
  const text = req.query[name];
  if (text === undefined && fallback !== undefined) return fallback;
  if (text === undefined || !/^\d{1,12}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new SlsApiError('ParameterInvalid', `${name} must be an integer from ${min} to ${max}.`);
  }
  return Number(text);
}

const utf8 = new TextDecoder();

interface Hit {
  time: number;
  /** Storage order, so equal times keep the order the logs were written in. */
  seq: number;
  row: Record<string, string | number>;
}

/** One log as GetLogs shows it: its contents, then `__time__`, `__topic__`, `__source__` and each tag as `__tag__:<key>`. */
function rowOf(group: LogGroup, log: LogGroup['logs'][number]): { row: Record<string, string | number>; fields: Fields } {
  const row: Record<string, string | number> = {};
  const fields: Fields = new Map();
  const add = (k: string, v: string): void => {
    const values = fields.get(k);
    if (values) values.push(v);
    else fields.set(k, [v]);
  };
  for (const c of log.contents) {
    const v = typeof c.value === 'string' ? c.value : utf8.decode(c.value);
    row[c.key] = v; // a key given twice shows its last value, as a JSON object must
    add(c.key, v);
  }
  row.__time__ = log.time;
  if (log.timeNs !== undefined) row.__time_ns_part__ = log.timeNs;
  row.__topic__ = group.topic ?? '';
  row.__source__ = group.source ?? '';
  for (const t of group.logTags) {
    row[`__tag__:${t.key}`] = t.value;
    add(`__tag__:${t.key}`, t.value);
  }
  return { row, fields };
}

/** `GET /logstores/<logstore>?type=log&from&to[&query&line&offset&reverse&topic]`. */
export async function getLogs(state: EmulatorState, req: ApiRequest, logstore: string): Promise<Reply> {
  const store = state.catalog.get(req.project, logstore);
  await store.checkAccess(); // a BYOK Logstore whose CMK is unusable refuses reads
  const from = integerParam(req, 'from', undefined, 0, 2 ** 32);
  const to = integerParam(req, 'to', undefined, 0, 2 ** 32);
  const line = integerParam(req, 'line', MAX_LINES, 0, MAX_LINES);
  const offset = integerParam(req, 'offset', 0, 0, 1e12);
  const reverse = req.query.reverse === 'true';
  const topic = req.query.topic;
  const index = store.index;
  if (!index) throw new SlsApiError('IndexConfigNotExist', `logstore ${logstore} has no index config: GetLogs needs one.`);
  const query = parseQuery(req.query.query ?? '');

  const hits: Hit[] = [];
  let seq = 0;
  for (let shardId = 0; shardId < store.shardCount; shardId++) {
    const shard = store.shard(shardId);
    const { groups } = await store.read(shardId, 0, shard.count, Infinity);
    for (const bytes of groups) {
      const group = decodeLogGroup(bytes);
      if (topic !== undefined && topic !== '' && (group.topic ?? '') !== topic) continue;
      for (const log of group.logs) {
        seq++;
        if (log.time < from || log.time >= to) continue; // [from, to), as the SDKs document it
        const { row, fields } = rowOf(group, log);
        if (matches(query, fields, index)) hits.push({ time: log.time, seq, row });
      }
    }
  }
  hits.sort((a, b) => (reverse ? b.time - a.time || b.seq - a.seq : a.time - b.time || a.seq - b.seq));
  let page = hits.slice(offset, offset + line);
  const incomplete = state.faults.getLogsIncomplete();
  if (incomplete) page = page.slice(0, Math.floor(page.length / 2));
  return {
    status: 200,
    json: page.map((h) => h.row),
    headers: {
      'x-log-progress': incomplete ? 'Incomplete' : 'Complete',
      'x-log-count': String(page.length),
      'x-log-processed-rows': String(seq),
    },
  };
}
