// SlsClient: PutLogs, Logstore administration, reading (GetCursor/PullLogs) and consumer groups against one SLS project.
import { createHash } from 'node:crypto';
import { decodeLogGroupList, type LogGroup } from '../wire/loggroup.js';
import { decompressBody, type PulledBody } from './pull-body.js';
import { resolveCredentials, type CredentialSource, type SlsCredentials } from './credentials.js';
import { parseEndpoint, projectHost, tlsServerName, type Endpoint } from './endpoint.js';
import { parseCheckpoints, parseGroupList, parseShardIds, type ConsumerGroupSpec, type GroupCheckpoint } from './consumer-group.js';
import { SlsError } from './errors.js';
import type { PutLogsPayload } from './payload.js';
import { logstoreBody, parseLogstore, parseShards, type LogstoreSpec, type ShardInfo } from './logstore.js';
import { retryPolicy, withRetry, type RetryPolicy } from './retry.js';
import { getLogsQuery, indexBody, parseIndexKeys, parseQueriedLogs, type GetLogsPage, type GetLogsRequest } from './query.js';
import { requestTarget, signedHeaders, type RequestToSign } from './signed-request.js';
import { Transport, type HttpAnswer, type HttpCall } from './transport.js';

export interface SlsClientOptions {
  /** `http://127.0.0.1:PORT`, `https://cn-hangzhou.log.aliyuncs.com`, or a bare host name (https). */
  endpoint: string;
  project: string;
  credentials: CredentialSource;
  /** Deadline of one attempt, connect to last byte. Default 30 s. */
  timeoutMs?: number;
  /** Sockets kept open to the endpoint, i.e. requests in flight at once. Default 16. */
  maxSockets?: number;
  retry?: Partial<RetryPolicy>;
  /** Clock for the Date header (tests). */
  now?: () => Date;
  /** Called before each wait for another attempt, with the error and the attempt that failed (1-based). */
  onRetry?: (e: SlsError, attempt: number) => void;
}

/** A request as the client's methods describe it; host, credentials and date are added per attempt. */
interface Call extends Omit<RequestToSign, 'host' | 'credentials' | 'date'> {
  operation: string;
  /** Only calls that are safe to repeat are retried: PutLogs (SLS tolerates duplicates) and reads. */
  retry: boolean;
  signal?: AbortSignal;
  bodyInto?: HttpCall['bodyInto'];
  /** Called with the client-wide onRetry, for this call's retries only. */
  onRetry?: (e: SlsError, attempt: number) => void;
}

/** PullLogs as a reader asks for it: up to `endCursor`, abortable, the body into memory the reader gives. */
export interface PullOptions {
  endCursor?: string;
  signal?: AbortSignal;
  bodyInto?: HttpCall['bodyInto'];
}

const HASH_KEY = /^[0-9a-fA-F]{32}$/;

export class SlsClient {
  private readonly endpoint: Endpoint;
  private readonly host: string;
  private readonly servername: string | undefined;
  private readonly transport: Transport;
  private readonly policy: RetryPolicy;
  private closed = false;

  constructor(private readonly options: SlsClientOptions) {
    this.endpoint = parseEndpoint(options.endpoint);
    this.host = projectHost(this.endpoint, options.project);
    this.servername = tlsServerName(this.endpoint, options.project);
    this.policy = retryPolicy(options.retry);
    this.transport = new Transport(this.endpoint, { timeoutMs: options.timeoutMs ?? 30_000, maxSockets: options.maxSockets ?? 16 });
  }

  /**
   * Sends one LogGroup. Retryable failures are retried with backoff; when the attempts run out the last
   * SlsError is thrown with `retryable` still true, so the caller can spool the payload and try later.
   * A `hashKey` that is 32 hex digits routes as is; any other string is hashed with MD5 first.
   */
  async putLogs(
    logstore: string,
    payload: PutLogsPayload,
    opts?: { hashKey?: string; signal?: AbortSignal; onRetry?: (e: SlsError, attempt: number) => void },
  ): Promise<{ requestId: string }> {
    const headers: Record<string, string> = { 'x-log-bodyrawsize': String(payload.rawSize) };
    if (payload.compressType !== 'none') headers['x-log-compresstype'] = payload.compressType;
    const hashKey = opts?.hashKey;
    const answer = await this.call({
      method: 'POST',
      path: `/logstores/${logstore}/shards/${hashKey === undefined ? 'lb' : 'route'}`,
      ...(hashKey === undefined ? {} : { query: { key: routeKey(hashKey) } }),
      body: payload.body,
      ...(payload.contentMd5 ? { bodyMd5: payload.contentMd5 } : {}),
      contentType: 'application/x-protobuf',
      headers,
      operation: `PutLogs ${logstore}`,
      retry: true,
      ...(opts?.signal ? { signal: opts.signal } : {}),
      ...(opts?.onRetry ? { onRetry: opts.onRetry } : {}),
    });
    return { requestId: requestIdOf(answer) ?? '' };
  }

  async createLogstore(spec: LogstoreSpec): Promise<void> {
    await this.call({ method: 'POST', path: '/logstores', body: logstoreBody(spec), operation: `CreateLogstore ${spec.logstoreName}`, retry: false });
  }

  async getLogstore(name: string): Promise<LogstoreSpec> {
    const operation = `GetLogstore ${name}`;
    const answer = await this.call({ method: 'GET', path: `/logstores/${name}`, operation, retry: true });
    return parsed(answer, operation, parseLogstore, 'a Logstore');
  }

  /** SLS wants the whole `encrypt_conf` on every update, and lets only `enable` change. */
  async updateLogstore(spec: LogstoreSpec): Promise<void> {
    await this.call({
      method: 'PUT',
      path: `/logstores/${spec.logstoreName}`,
      body: logstoreBody(spec),
      operation: `UpdateLogstore ${spec.logstoreName}`,
      retry: false,
    });
  }

  async deleteLogstore(name: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/logstores/${name}`, operation: `DeleteLogstore ${name}`, retry: false });
  }

  async listShards(logstore: string): Promise<ShardInfo[]> {
    const operation = `ListShards ${logstore}`;
    const answer = await this.call({ method: 'GET', path: `/logstores/${logstore}/shards`, operation, retry: true });
    return parsed(answer, operation, parseShards, 'a shard list');
  }

  /** A cursor at the first or last position of a shard, or at the first data received at or after a unix time. */
  async getCursor(logstore: string, shard: number, from: 'begin' | 'end' | number): Promise<string> {
    const operation = `GetCursor ${logstore}/${shard}`;
    const answer = await this.call({
      method: 'GET',
      path: `/logstores/${logstore}/shards/${shard}`,
      query: { type: 'cursor', from: typeof from === 'number' ? String(Math.floor(from)) : from },
      operation,
      retry: true,
    });
    return parsed(answer, operation, (j) => (typeof (j as { cursor?: unknown })?.cursor === 'string' ? (j as { cursor: string }).cursor : undefined), 'a cursor');
  }

  /** Up to `count` LogGroups from `cursor` (to `endCursor`, exclusive, when given). */
  async pullLogs(
    logstore: string,
    shard: number,
    cursor: string,
    count: number,
    endCursor?: string,
  ): Promise<{ groups: LogGroup[]; nextCursor: string; count: number }> {
    const page = await this.pullLogsBody(logstore, shard, cursor, count, endCursor !== undefined ? { endCursor } : {});
    let groups: LogGroup[];
    try {
      groups = decodeLogGroupList(decompressBody(page));
    } catch (err) {
      throw new SlsError({ code: 'InvalidResponse', status: 200, detail: `undecodable body: ${(err as Error).message}`, operation: `PullLogs ${logstore}/${shard}`, retryable: false });
    }
    return { groups, nextCursor: page.nextCursor, count: page.count >= 0 ? page.count : groups.length };
  }

  /**
   * PullLogs as the service sent it: the LogGroupList body still compressed, for a reader that decodes it
   * elsewhere (a worker thread). `count` is the number of LogGroups in it.
   */
  async pullLogsBody(logstore: string, shard: number, cursor: string, count: number, options: PullOptions = {}): Promise<PulledBody> {
    const { endCursor, signal, bodyInto } = options;
    const operation = `PullLogs ${logstore}/${shard}`;
    const query: Record<string, string> = { type: 'logs', cursor, count: String(count) };
    if (endCursor !== undefined) query.end_cursor = endCursor;
    const answer = await this.call({
      method: 'GET',
      path: `/logstores/${logstore}/shards/${shard}`,
      query,
      headers: { Accept: 'application/x-protobuf', 'Accept-Encoding': 'lz4' },
      operation,
      retry: true,
      ...(signal ? { signal } : {}),
      ...(bodyInto ? { bodyInto } : {}),
    });
    const nextCursor = headerOf(answer, 'x-log-cursor');
    if (nextCursor === undefined) throw invalidResponse(answer, operation, 'no x-log-cursor header');
    const type = headerOf(answer, 'x-log-compresstype') ?? '';
    if (type !== '' && type !== 'none' && type !== 'lz4' && type !== 'deflate' && type !== 'zstd') throw invalidResponse(answer, operation, `unknown x-log-compresstype ${type}`);
    const rawSize = Number(headerOf(answer, 'x-log-bodyrawsize') ?? answer.body.length);
    if (type === 'lz4' && (!Number.isInteger(rawSize) || rawSize < 0)) throw invalidResponse(answer, operation, 'lz4 body without a valid x-log-bodyrawsize');
    const countHeader = Number(headerOf(answer, 'x-log-count'));
    return {
      body: answer.body,
      compressType: type === '' ? 'none' : type,
      rawSize: Number.isInteger(rawSize) ? rawSize : answer.body.length,
      nextCursor,
      count: Number.isInteger(countHeader) ? countHeader : -1,
    };
  }

  /** One page of a GetLogs query (PROTOCOLS.md); `complete` is false when SLS says `x-log-progress: Incomplete`. */
  async getLogs(logstore: string, request: GetLogsRequest): Promise<GetLogsPage> {
    const operation = `GetLogs ${logstore}`;
    const answer = await this.call({ method: 'GET', path: `/logstores/${logstore}`, query: getLogsQuery(request), operation, retry: true });
    const logs = parsed(answer, operation, parseQueriedLogs, 'a list of logs');
    return { logs, complete: headerOf(answer, 'x-log-progress') === 'Complete' };
  }

  /** The keys of the Logstore's index; undefined when it has none (`IndexConfigNotExist`). */
  async getIndexKeys(logstore: string): Promise<Record<string, unknown> | undefined> {
    const operation = `GetIndex ${logstore}`;
    try {
      const answer = await this.call({ method: 'GET', path: `/logstores/${logstore}/index`, operation, retry: true });
      return parsed(answer, operation, parseIndexKeys, 'an index config');
    } catch (err) {
      if (err instanceof SlsError && err.code === 'IndexConfigNotExist') return undefined;
      throw err;
    }
  }

  /** Creates (or, when `update`, replaces) the Logstore's index on `keys` (key → its index settings). */
  async putIndex(logstore: string, keys: Record<string, unknown>, update: boolean): Promise<void> {
    await this.call({
      method: update ? 'PUT' : 'POST',
      path: `/logstores/${logstore}/index`,
      body: indexBody(keys),
      contentType: 'application/json',
      operation: `${update ? 'UpdateIndex' : 'CreateIndex'} ${logstore}`,
      retry: false,
    });
  }

  async createConsumerGroup(logstore: string, spec: ConsumerGroupSpec): Promise<void> {
    const body = Buffer.from(JSON.stringify(spec));
    await this.call({ method: 'POST', path: `/logstores/${logstore}/consumergroups`, body, operation: `CreateConsumerGroup ${logstore}/${spec.consumerGroup}`, retry: false });
  }

  async listConsumerGroups(logstore: string): Promise<ConsumerGroupSpec[]> {
    const operation = `ListConsumerGroup ${logstore}`;
    const answer = await this.call({ method: 'GET', path: `/logstores/${logstore}/consumergroups`, operation, retry: true });
    return parsed(answer, operation, parseGroupList, 'a consumer group list');
  }

  async updateConsumerGroup(logstore: string, group: string, change: { timeout?: number; order: boolean }): Promise<void> {
    const body = Buffer.from(JSON.stringify(change));
    await this.call({ method: 'PUT', path: `/logstores/${logstore}/consumergroups/${group}`, body, operation: `UpdateConsumerGroup ${logstore}/${group}`, retry: false });
  }

  async deleteConsumerGroup(logstore: string, group: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/logstores/${logstore}/consumergroups/${group}`, operation: `DeleteConsumerGroup ${logstore}/${group}`, retry: false });
  }

  /**
   * Tells SLS the consumer is alive and still holds `held`; answers the shards it should hold now. Sent once:
   * the caller's next heartbeat is the retry, a backoff here could outlast the group's timeout.
   */
  async heartbeat(logstore: string, group: string, consumer: string, held: readonly number[]): Promise<number[]> {
    const operation = `HeartBeat ${logstore}/${group}`;
    const answer = await this.call({
      method: 'POST',
      path: `/logstores/${logstore}/consumergroups/${group}`,
      query: { type: 'heartbeat', consumer },
      body: Buffer.from(JSON.stringify(held)),
      operation,
      retry: false,
    });
    return parsed(answer, operation, parseShardIds, 'a shard id list');
  }

  async updateCheckpoint(logstore: string, group: string, o: { consumer: string; shard: number; checkpoint: string; forceSuccess?: boolean }): Promise<void> {
    await this.call({
      method: 'POST',
      path: `/logstores/${logstore}/consumergroups/${group}`,
      query: { type: 'checkpoint', consumer: o.consumer, forceSuccess: String(o.forceSuccess ?? false) },
      body: Buffer.from(JSON.stringify({ shard: o.shard, checkpoint: o.checkpoint })),
      operation: `UpdateCheckPoint ${logstore}/${group}/${o.shard}`,
      retry: true,
    });
  }

  /** The group's checkpoints, of one shard or of all. */
  async getCheckpoints(logstore: string, group: string, shard?: number): Promise<GroupCheckpoint[]> {
    const operation = `GetCheckPoint ${logstore}/${group}`;
    const answer = await this.call({
      method: 'GET',
      path: `/logstores/${logstore}/consumergroups/${group}`,
      ...(shard === undefined ? {} : { query: { shard: String(shard) } }),
      operation,
      retry: true,
    });
    return parsed(answer, operation, parseCheckpoints, 'a checkpoint list');
  }

  /** Closes idle and in-flight connections; later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.transport.close();
  }

  private async call(call: Call): Promise<HttpAnswer> {
    if (this.closed) throw new SlsError({ code: 'ClientClosed', status: 0, operation: call.operation, detail: 'the client was closed', retryable: false });
    const policy = call.retry ? this.policy : { ...this.policy, maxAttempts: 1 };
    const onRetry = (e: SlsError, n: number): void => {
      this.options.onRetry?.(e, n);
      call.onRetry?.(e, n);
    };
    const hooks = { operation: call.operation, ...(call.signal ? { signal: call.signal } : {}), onRetry };
    return withRetry(policy, hooks, () => this.attempt(call));
  }

  private async attempt(call: Call): Promise<HttpAnswer> {
    const credentials = await resolveCredentials(this.options.credentials, call.operation);
    const headers = signedHeaders({
      method: call.method,
      path: call.path,
      ...(call.query ? { query: call.query } : {}),
      ...(call.body ? { body: call.body } : {}),
      ...(call.bodyMd5 ? { bodyMd5: call.bodyMd5 } : {}),
      ...(call.contentType ? { contentType: call.contentType } : {}),
      ...(call.headers ? { headers: call.headers } : {}),
      host: this.host,
      credentials,
      date: this.options.now?.() ?? new Date(),
    });
    const answer = await this.transport.send(
      {
        method: call.method,
        target: requestTarget(call.path, call.query),
        headers,
        ...(call.body ? { body: call.body } : {}),
        ...(this.servername ? { servername: this.servername } : {}),
        operation: call.operation,
        ...(call.bodyInto ? { bodyInto: call.bodyInto } : {}),
      },
      call.signal,
    );
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw serviceError(answer, call.operation, credentials);
  }
}

function routeKey(hashKey: string): string {
  return HASH_KEY.test(hashKey) ? hashKey.toLowerCase() : createHash('md5').update(hashKey).digest('hex');
}

function headerOf(answer: HttpAnswer, name: string): string | undefined {
  const v = answer.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function requestIdOf(answer: HttpAnswer): string | undefined {
  return headerOf(answer, 'x-log-requestid');
}

/** The `{errorCode, errorMessage}` of a failed call, without any credential the server may have echoed. */
function serviceError(answer: HttpAnswer, operation: string, credentials: SlsCredentials): SlsError {
  let code = 'UnexpectedResponse';
  let detail = `HTTP ${answer.status} without an SLS error body`;
  try {
    const json = JSON.parse(answer.body.toString('utf8')) as { errorCode?: unknown; errorMessage?: unknown };
    if (typeof json.errorCode === 'string' && json.errorCode) code = json.errorCode;
    if (typeof json.errorMessage === 'string') detail = json.errorMessage;
  } catch {
    // not JSON (a proxy's error page, say): keep the generic code; the status still decides retrying
  }
  // A very short "secret" (a test key) would blank out ordinary letters; real secrets are 30 characters and more.
  for (const secret of [credentials.accessKeySecret, credentials.securityToken]) {
    if (secret && secret.length >= 8) detail = detail.split(secret).join('***');
  }
  const requestId = requestIdOf(answer);
  return new SlsError({ code, status: answer.status, detail, operation, ...(requestId ? { requestId } : {}) });
}

function invalidResponse(answer: HttpAnswer, operation: string, detail: string): SlsError {
  const requestId = requestIdOf(answer);
  return new SlsError({ code: 'InvalidResponse', status: answer.status, detail, operation, retryable: false, ...(requestId ? { requestId } : {}) });
}

function parsed<T>(answer: HttpAnswer, operation: string, parse: (json: unknown) => T | undefined, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw invalidResponse(answer, operation, `expected ${what} as JSON`);
  }
  const value = parse(json);
  if (value === undefined) throw invalidResponse(answer, operation, `expected ${what}`);
  return value;
}
