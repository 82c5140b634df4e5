// HTTP plumbing: reads each request, authenticates it, routes it to a handler and writes the SLS-shaped reply.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { verifyRequest } from './auth.js';
import type { ApiRequest, EmulatorState, Reply } from './context.js';
import { handleControl } from './control-routes.js';
import {
  createConsumerGroup,
  deleteConsumerGroup,
  getCheckpoints,
  listConsumerGroups,
  postToConsumerGroup,
  updateConsumerGroup,
} from './consumer-group-routes.js';
import { SlsApiError } from './errors.js';
import { isValidProjectName } from './logstore-config.js';
import { createLogstore, deleteLogstore, getLogstore, listLogstores, listShards, updateLogstore } from './logstore-routes.js';
import { checkContentMd5, MAX_WIRE_BODY_BYTES } from './putlogs-body.js';
import { createIndex, deleteIndex, getIndex, getLogs, updateIndex } from './query-routes.js';
import { getCursorOrLogs, putLogs } from './shard-routes.js';

const SMALL_BODY_BYTES = 1024 * 1024;

interface Route {
  /** Largest body the call accepts; more is drained and refused. */
  maxBody: number;
  isPutLogs: boolean;
  run: (state: EmulatorState, req: ApiRequest) => Reply | Promise<Reply>;
}

function methodNotAllowed(method: string, path: string): SlsApiError {
  return new SlsApiError('InvalidMethod', `${method} is not allowed on ${path}.`);
}

/** Maps method and path to a handler; throws NotFound / InvalidMethod for anything else. */
function route(method: string, path: string, query: Record<string, string>): Route {
  const parts = path.replace(/\/+$/, '').split('/').slice(1);
  const small = (run: Route['run']): Route => ({ maxBody: SMALL_BODY_BYTES, isPutLogs: false, run });
  if (parts[0] === 'logstores') {
    const [, name, shards, shard] = parts as [string, string?, string?, string?];
    if (parts.length === 1) {
      if (method === 'GET') return small(listLogstores);
      if (method === 'POST') return small(createLogstore);
      throw methodNotAllowed(method, path);
    }
    if (parts.length === 2 && name) {
      if (method === 'GET' && query.type === 'log') return small((s, r) => getLogs(s, r, name));
      if (method === 'GET') return small((s, r) => getLogstore(s, r, name));
      if (method === 'PUT') return small((s, r) => updateLogstore(s, r, name));
      if (method === 'DELETE') return small((s, r) => deleteLogstore(s, r, name));
      throw methodNotAllowed(method, path);
    }
    if (parts.length === 3 && name && shards === 'index') {
      if (method === 'POST') return small((s, r) => createIndex(s, r, name));
      if (method === 'PUT') return small((s, r) => updateIndex(s, r, name));
      if (method === 'GET') return small((s, r) => getIndex(s, r, name));
      if (method === 'DELETE') return small((s, r) => deleteIndex(s, r, name));
      throw methodNotAllowed(method, path);
    }
    if (name && shards === 'consumergroups') return consumerGroupRoute(method, path, name, parts[3], small);
    if (parts.length === 3 && name && shards === 'shards') {
      if (method === 'GET') return small((s, r) => listShards(s, r, name));
      throw methodNotAllowed(method, path);
    }
    if (parts.length === 4 && name && shards === 'shards' && shard) {
      if (shard === 'lb' || shard === 'route') {
        if (method !== 'POST') throw methodNotAllowed(method, path);
        return { maxBody: MAX_WIRE_BODY_BYTES, isPutLogs: true, run: (s, r) => putLogs(s, r, name, shard) };
      }
      if (method === 'GET') return small((s, r) => getCursorOrLogs(s, r, name, shard));
      throw methodNotAllowed(method, path);
    }
  }
  throw new SlsApiError('NotFound', `${method} ${path} is not an SLS API this emulator serves.`);
}

/** `/logstores/<name>/consumergroups[/<group>]`. */
function consumerGroupRoute(method: string, path: string, logstore: string, group: string | undefined, small: (run: Route['run']) => Route): Route {
  if (path.replace(/\/+$/, '').split('/').length > 5) throw new SlsApiError('NotFound', `${method} ${path} is not an SLS API this emulator serves.`);
  if (group === undefined) {
    if (method === 'GET') return small((s, r) => listConsumerGroups(s, r, logstore));
    if (method === 'POST') return small((s, r) => createConsumerGroup(s, r, logstore));
    throw methodNotAllowed(method, path);
  }
  if (method === 'GET') return small((s, r) => getCheckpoints(s, r, logstore, group));
  if (method === 'POST') return small((s, r) => postToConsumerGroup(s, r, logstore, group));
  if (method === 'PUT') return small((s, r) => updateConsumerGroup(s, r, logstore, group));
  if (method === 'DELETE') return small((s, r) => deleteConsumerGroup(s, r, logstore, group));
  throw methodNotAllowed(method, path);
}

/** The project is the first label of `Host: <project>.<endpoint>`; a bare IP or name carries none. */
function projectFromHost(host: string | undefined): string {
  if (!host) throw new SlsApiError('MissingHost', 'Host does not exist in http header.');
  const hostname = host.startsWith('[') ? '' : host.replace(/:\d+$/, '');
  const labels = hostname.split('.');
  if (labels.length < 2 || /^\d+\.\d+\.\d+\.\d+$/.test(hostname)) {
    throw new SlsApiError('InvalidHost', `Host ${host} is invalid; send Host: <project>.<endpoint>.`);
  }
  const project = labels[0]!;
  if (!isValidProjectName(project)) throw new SlsApiError('ProjectNotExist', `Project ${project} does not exist.`);
  return project;
}

/** Reads the whole body; past `limit` the rest is drained (so the client sees the answer) and flagged. */
function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks, size), tooLarge }));
    req.on('error', reject);
  });
}

function queryOf(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  return query;
}

async function handleApi(state: EmulatorState, req: IncomingMessage, url: URL): Promise<Reply> {
  const latency = state.faults.latencyMs();
  if (latency > 0) await delay(latency);
  const method = req.method ?? 'GET';
  const path = url.pathname;
  // The body is drained before any refusal so keep-alive connections stay usable.
  let target: Route | SlsApiError;
  try {
    target = route(method, path, queryOf(url));
  } catch (e) {
    target = e as SlsApiError;
  }
  const { body, tooLarge } = await readBody(req, target instanceof SlsApiError ? SMALL_BODY_BYTES : target.maxBody);

  const query = queryOf(url);
  verifyRequest({ method, path, query, headers: req.headers }, state.creds, Date.now(), state.maxSkewMs);
  if (target instanceof SlsApiError) throw target;
  if (body.length > 0 && req.headers['content-length'] === undefined) {
    throw new SlsApiError('MissingContentLength', 'Content-Length does not exist in http header when it is necessary.');
  }
  if (tooLarge) {
    throw new SlsApiError('PostBodyTooLarge', `The request body is larger than ${target.maxBody} bytes.`);
  }
  checkContentMd5(req.headers, body, target.isPutLogs);
  const project = projectFromHost(req.headers.host);
  return target.run(state, { method, path, query, headers: req.headers, body, project });
}

function errorReply(e: unknown): Reply & { code: string } {
  const err =
    e instanceof SlsApiError ? e : new SlsApiError('InternalServerError', `Internal server error: ${(e as Error)?.message ?? String(e)}`);
  return { status: err.status, code: err.code, json: { errorCode: err.code, errorMessage: err.message } };
}

function send(res: ServerResponse, requestId: string, reply: Reply): void {
  if (res.headersSent || res.destroyed) {
    reply.release?.();
    return;
  }
  if (reply.release) res.once('close', reply.release);
  res.statusCode = reply.status;
  res.setHeader('x-log-requestid', requestId);
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  let body = reply.body ?? Buffer.alloc(0);
  if (reply.json !== undefined) {
    body = Buffer.from(JSON.stringify(reply.json));
    res.setHeader('content-type', 'application/json');
  }
  res.setHeader('content-length', body.length);
  res.end(body);
}

/** The node:http request listener. Every reply carries `x-log-requestid`; errors are `{errorCode, errorMessage}`. */
export function requestListener(state: EmulatorState): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const requestId = randomBytes(12).toString('hex').toUpperCase();
    let url: URL;
    try {
      // Prefixing keeps a path such as `//x` a path instead of a host.
      url = new URL(`http://sls.invalid${req.url ?? '/'}`);
    } catch {
      req.resume();
      send(res, requestId, errorReply(new SlsApiError('NotFound', 'The request target is not a path.')));
      return;
    }
    if (url.pathname.startsWith('/_emulator/')) {
      readBody(req, SMALL_BODY_BYTES)
        .then(({ body }) => handleControl(state, req.method ?? 'GET', url.pathname, req.headers, body))
        .catch(errorReply)
        .then((reply) => send(res, requestId, reply));
      return;
    }
    handleApi(state, req, url)
      .catch((e: unknown) => {
        const reply = errorReply(e);
        state.stats.rejected[reply.code] = (state.stats.rejected[reply.code] ?? 0) + 1;
        return reply;
      })
      .then((reply) => send(res, requestId, reply));
  };
}
