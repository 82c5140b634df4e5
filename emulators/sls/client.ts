// A minimal signed SLS client for tools and tests that talk to the emulator: one request, PutLogs, and reading a shard back.
import { createHash } from 'node:crypto';
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { authorizationV1 } from '../../agent/ship/signature.js';
import { decodeLogGroupList, encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';
import { lz4Compress, lz4Decompress } from '../../agent/wire/lz4.js';

export interface SignedRequestOptions {
  /** The emulator's `url`, e.g. `http://127.0.0.1:7001`. */
  url: string;
  /** Sent as `Host: <project>.<host:port of url>`; omitted → no project in the Host header. */
  project?: string;
  accessKeyId: string;
  accessKeySecret: string;
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: Uint8Array;
  /** Signed headers, applied over the defaults; a value of `null` removes a default before signing. */
  headers?: Record<string, string | null>;
  /** Headers added after signing, to send what a signature does not cover. */
  unsignedHeaders?: Record<string, string>;
  date?: Date;
  securityToken?: string;
  agent?: Agent;
}

export interface SlsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export function signedRequest(o: SignedRequestOptions): Promise<SlsResponse> {
  const base = new URL(o.url);
  const body = o.body ? Buffer.from(o.body.buffer, o.body.byteOffset, o.body.byteLength) : undefined;
  const defaults: Record<string, string> = {
    host: o.project ? `${o.project}.${base.host}` : base.host,
    date: (o.date ?? new Date()).toUTCString(),
    'x-log-apiversion': '0.6.0',
    'x-log-signaturemethod': 'hmac-sha1',
  };
  if (body && body.length > 0) {
    defaults['content-md5'] = createHash('md5').update(body).digest('hex').toUpperCase();
    defaults['content-length'] = String(body.length);
  }
  if (o.securityToken) defaults['x-acs-security-token'] = o.securityToken;
  const headers: Record<string, string> = { ...defaults };
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === null) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  headers.authorization = authorizationV1(o.accessKeyId, o.accessKeySecret, {
    method: o.method,
    path: o.path,
    query: o.query,
    headers,
  });
  Object.assign(headers, o.unsignedHeaders ?? {});
  const qs = new URLSearchParams(o.query ?? {}).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: base.hostname,
        port: base.port,
        method: o.method,
        path: qs ? `${o.path}?${qs}` : o.path,
        headers,
        agent: o.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Where and as whom: everything signedRequest needs except the call itself. */
export type SlsTarget = Pick<SignedRequestOptions, 'url' | 'project' | 'accessKeyId' | 'accessKeySecret' | 'agent'>;

export class EmulatorCallError extends Error {
  override name = 'EmulatorCallError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function check(res: SlsResponse, what: string): SlsResponse {
  if (res.status === 200) return res;
  let code = 'Unknown';
  let message = res.body.toString('utf8');
  try {
    const e = JSON.parse(message) as { errorCode?: string; errorMessage?: string };
    code = e.errorCode ?? code;
    message = e.errorMessage ?? message;
  } catch {
    // not JSON: keep the raw text
  }
  throw new EmulatorCallError(res.status, code, `${what}: ${res.status} ${code}: ${message}`);
}

/** PutLogs of one LogGroup, LZ4-compressed; `hashKey` routes it to the shard holding that key. */
export async function putLogGroup(t: SlsTarget, logstore: string, group: LogGroup, hashKey?: string): Promise<void> {
  const raw = encodeLogGroup(group);
  const res = await signedRequest({
    ...t,
    method: 'POST',
    path: `/logstores/${logstore}/shards/${hashKey ? 'route' : 'lb'}`,
    query: hashKey ? { key: hashKey } : undefined,
    body: lz4Compress(raw),
    headers: { 'content-type': 'application/x-protobuf', 'x-log-bodyrawsize': String(raw.length), 'x-log-compresstype': 'lz4' },
  });
  check(res, `PutLogs ${logstore}`);
}

/** Every LogGroup stored in one shard, oldest first (GetCursor from=begin, then PullLogs until the end). */
export async function readShard(t: SlsTarget, logstore: string, shardId: number): Promise<LogGroup[]> {
  const path = `/logstores/${logstore}/shards/${shardId}`;
  const get = async (query: Record<string, string>) => check(await signedRequest({ ...t, method: 'GET', path, query }), `GET ${path}`);
  const begin = (JSON.parse((await get({ type: 'cursor', from: 'begin' })).body.toString('utf8')) as { cursor: string }).cursor;
  const end = (JSON.parse((await get({ type: 'cursor', from: 'end' })).body.toString('utf8')) as { cursor: string }).cursor;
  const groups: LogGroup[] = [];
  let cursor = begin;
  while (cursor !== end) {
    const res = await get({ type: 'logs', cursor, count: '1000', end_cursor: end });
    const raw = lz4Decompress(res.body, Number(res.headers['x-log-bodyrawsize']));
    groups.push(...decodeLogGroupList(raw));
    cursor = String(res.headers['x-log-cursor']);
  }
  return groups;
}
