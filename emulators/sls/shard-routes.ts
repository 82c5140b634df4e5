// Data calls on shards: PutLogs (lb / route), GetCursor and PullLogs.
import { lz4Bound, lz4CompressInto } from '../../agent/wire/lz4.js';
import { SlsApiError } from './errors.js';
import { OK_EMPTY, type ApiRequest, type EmulatorState, type Reply } from './context.js';
import { decodePutLogsBody } from './putlogs-body.js';
import { decodeCursor, encodeCursor, packedLogGroupList } from './pull.js';

const MAX_PULL_COUNT = 1000;
/** PullLogs stops adding LogGroups past this much plaintext, like the service bounds one response. */
const MAX_PULL_BYTES = 16 * 1024 * 1024;

/** `mode` is `lb` (round-robin, or `x-log-hashkey` when given) or `route` (`?key=<md5 hex>`). */
export async function putLogs(state: EmulatorState, req: ApiRequest, logstore: string, mode: 'lb' | 'route'): Promise<Reply> {
  const group = decodePutLogsBody(req.headers, req.body);
  const store = state.catalog.get(req.project, logstore);
  let hashKey: string | undefined;
  if (mode === 'route') {
    hashKey = req.query.key;
    if (hashKey === undefined) throw new SlsApiError('ParameterInvalid', 'key is required for /shards/route.');
  } else {
    const h = req.headers['x-log-hashkey'];
    hashKey = Array.isArray(h) ? h[0] : h;
  }
  const shardId = store.pickShard(hashKey);
  const fault = state.faults.putLogsFault(group.length);
  if (fault) throw fault;
  await store.write(shardId, group);
  state.stats.putLogs++;
  return OK_EMPTY;
}

function shardIdFrom(text: string): number {
  return /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
}

function cursorPosition(from: string | undefined, count: number, firstAtOrAfter: (t: number) => number): number {
  if (from === 'begin') return 0;
  if (from === 'end') return count;
  if (from !== undefined && /^\d{1,12}$/.test(from)) return firstAtOrAfter(Number(from));
  throw new SlsApiError('ParameterInvalid', `from must be begin, end or unix seconds, got ${JSON.stringify(from ?? null)}.`);
}

/** `GET /logstores/<ls>/shards/<id>?type=cursor|logs`. */
export async function getCursorOrLogs(state: EmulatorState, req: ApiRequest, logstore: string, shardText: string): Promise<Reply> {
  const store = state.catalog.get(req.project, logstore);
  const shardId = shardIdFrom(shardText);
  const shard = store.shard(shardId);
  if (req.query.type === 'cursor') {
    const position = cursorPosition(req.query.from, shard.count, (t) => shard.firstAtOrAfter(t));
    return { status: 200, json: { cursor: encodeCursor(position) } };
  }
  if (req.query.type !== 'logs') throw new SlsApiError('ParameterInvalid', 'type must be cursor or logs.');

  const { cursor, count: countText, end_cursor: endCursor } = req.query;
  if (cursor === undefined) throw new SlsApiError('ParameterInvalid', 'cursor is required.');
  const count = countText !== undefined && /^\d{1,4}$/.test(countText) ? Number(countText) : 0;
  if (count < 1 || count > MAX_PULL_COUNT) throw new SlsApiError('ParameterInvalid', `count must be from 1 to ${MAX_PULL_COUNT}.`);
  const total = shard.count;
  const from = decodeCursor(cursor, total);
  const end = endCursor === undefined ? total : decodeCursor(endCursor, total);
  const { groups, next, release: releaseGroups } = await store.read(shardId, from, Math.min(from + count, Math.max(end, from)), MAX_PULL_BYTES);
  const { body, rawSize, release } = packedLogGroupList(groups, lz4Bound, (list, out) => lz4CompressInto(list, out, 0));
  releaseGroups(); // copied into the answer
  return {
    status: 200,
    body,
    release,
    headers: {
      'content-type': 'application/x-protobuf',
      'x-log-cursor': encodeCursor(next),
      'x-log-count': String(groups.length),
      'x-log-bodyrawsize': String(rawSize),
      'x-log-compresstype': 'lz4',
    },
  };
}
