// HTTP(S) transport for SLS: keep-alive sockets, a deadline per request, abort; failures become SlsErrors.
import http from 'node:http';
import { createRequire } from 'node:module';
import type { Endpoint } from './endpoint.js';
import { copyBytes } from '../native/copy-bytes.js';
import { DirectBodies, NotDirect, StaleConnection } from './direct-body.js';
import { SlsError } from './errors.js';

export interface HttpCall {
  method: string;
  /** Path and percent-encoded query. */
  target: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** TLS server name, when it differs from the host connected to. */
  servername?: string;
  /** Names the call in error messages, e.g. `PutLogs app`. */
  operation: string;
  /**
   * Memory for a successful answer's body, given its Content-Length (e.g. a buffer the reader reuses); undefined, or
   * an answer without a length, gets a buffer of its own.
   */
  bodyInto?: (length: number) => Buffer | undefined;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface TransportOptions {
  timeoutMs: number;
  maxSockets: number;
}

// A keep-alive socket the server closed while idle fails the next request before it is read;
// sending it again on a fresh socket is safe for requests that change nothing twice.
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);
const REPEATABLE_METHODS = new Set(['GET', 'PUT', 'DELETE', 'HEAD']);

class Failure extends Error {
  constructor(readonly code: 'RequestTimeout' | 'Aborted') {
    super(code);
  }
}

/** A reused keep-alive socket failed before any answer; carries the error to throw if the call is not repeated. */
class StaleSocket extends Error {
  constructor(readonly error: SlsError) {
    super(error.message);
  }
}

export class Transport {
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  // Plain HTTP GETs with memory for the body (PullLogs for a reader) have the kernel read the body into it.
  private readonly direct: DirectBodies | undefined;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly options: TransportOptions,
  ) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, scheduling: 'lifo' as const };
    // node:https (and TLS with it) is loaded only for an https endpoint.
    const web = endpoint.protocol === 'https:' ? (createRequire(import.meta.url)('node:https') as typeof import('node:https')) : http;
    this.agent = new web.Agent(agentOptions);
    this.request = web.request;
    this.direct = endpoint.protocol === 'http:' ? new DirectBodies(endpoint.hostname, endpoint.port, options.maxSockets) : undefined;
  }

  async send(call: HttpCall, signal?: AbortSignal): Promise<HttpAnswer> {
    try {
      return await this.sendOnce(call, signal);
    } catch (err) {
      if (err instanceof StaleSocket && REPEATABLE_METHODS.has(call.method)) return this.sendOnce(call, signal);
      if (err instanceof StaleSocket) throw err.error;
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
    this.direct?.close();
  }

  private async sendOnce(call: HttpCall, signal?: AbortSignal): Promise<HttpAnswer> {
    if (!this.direct || !call.bodyInto || call.method !== 'GET' || call.body !== undefined) return this.sendHttp(call, signal);
    try {
      return await this.sendDirect(this.direct, call, call.bodyInto, signal);
    } catch (err) {
      if (err instanceof NotDirect) return this.sendHttp(call, signal); // a GET: asking again changes nothing
      throw err;
    }
  }

  private sendDirect(direct: DirectBodies, call: HttpCall, bodyInto: NonNullable<HttpCall['bodyInto']>, signal?: AbortSignal): Promise<HttpAnswer> {
    if (signal?.aborted) return Promise.reject(this.toSlsError(new Failure('Aborted'), call));
    let cause: Failure | undefined;
    let destroy: ((err: Error) => void) | undefined;
    const stop = (failure: Failure): void => {
      cause ??= failure;
      destroy?.(failure);
    };
    const timer = setTimeout(() => stop(new Failure('RequestTimeout')), this.options.timeoutMs);
    const onAbort = (): void => stop(new Failure('Aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const answer = direct.send({ target: call.target, headers: call.headers, bodyInto }, (d) => (destroy = d));
    return answer.then(
      (a) => a,
      (err: Error) => {
        if (err instanceof NotDirect) throw err;
        if (err instanceof StaleConnection && !cause) throw new StaleSocket(this.toSlsError(err.cause, call));
        throw this.toSlsError(cause ?? err, call);
      },
    ).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  }

  private sendHttp(call: HttpCall, signal?: AbortSignal): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      if (signal?.aborted) {
        reject(this.toSlsError(new Failure('Aborted'), call));
        return;
      }
      let settled = false;
      let gotResponse = false;
      const req = this.request({
        agent: this.agent,
        hostname: this.endpoint.hostname,
        port: this.endpoint.port,
        method: call.method,
        path: call.target,
        headers: call.headers,
        ...(call.servername ? { servername: call.servername } : {}),
      });
      // Set before destroying the request, so that whichever stream reports the error first, the cause wins.
      let cause: Failure | undefined;
      const stop = (failure: Failure): void => {
        cause ??= failure;
        req.destroy(failure);
      };
      // The deadline starts once a socket is assigned: time queued behind maxSockets is not the server's fault.
      let timer: NodeJS.Timeout | undefined;
      req.once('socket', () => {
        if (!settled) timer = setTimeout(() => stop(new Failure('RequestTimeout')), this.options.timeoutMs);
      });
      const onAbort = (): void => stop(new Failure('Aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (error: unknown, answer?: HttpAnswer): void => {
        if (settled) return;
        const err = cause ?? error;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (answer) resolve(answer);
        else if (!gotResponse && req.reusedSocket && STALE_SOCKET_CODES.has((err as NodeJS.ErrnoException)?.code ?? '')) {
          reject(new StaleSocket(this.toSlsError(err, call)));
        } else reject(this.toSlsError(err, call));
      };
      req.on('error', (err) => settle(err));
      req.on('response', (res) => {
        gotResponse = true;
        const chunks: Buffer[] = [];
        let size = 0;
        const length = Number(res.headers['content-length'] ?? NaN);
        const status = res.statusCode ?? 0;
        // The body is copied as it comes into the memory the caller gave, or gathered and joined at the end.
        const into = status >= 200 && status < 300 && Number.isSafeInteger(length) && length >= 0 ? call.bodyInto?.(length) : undefined;
        res.on('data', (chunk: Buffer) => {
          if (into) {
            if (size + chunk.length <= into.length) copyBytes(chunk, into, size);
          } else {
            chunks.push(chunk);
          }
          size += chunk.length;
        });
        res.on('error', (err) => settle(err));
        res.on('end', () => {
          if (into && size !== length) settle(new Error(`the answer held ${size} bytes, its Content-Length says ${length}`));
          else settle(null, { status, headers: res.headers, body: into ? into.subarray(0, size) : Buffer.concat(chunks, size) });
        });
        res.on('close', () => settle(new Error('the connection closed before the response ended')));
      });
      req.end(call.body);
    });
  }

  private toSlsError(err: unknown, call: HttpCall): SlsError {
    if (err instanceof Failure) {
      const detail = err.code === 'Aborted' ? 'the request was aborted' : `no answer within ${this.options.timeoutMs} ms`;
      return new SlsError({ code: err.code, status: 0, operation: call.operation, detail });
    }
    const e = err as NodeJS.ErrnoException;
    const detail = e?.code && !String(e.message).includes(e.code) ? `${e.code}: ${e.message}` : String(e?.message ?? err);
    return new SlsError({ code: 'NetworkError', status: 0, operation: call.operation, detail });
  }
}
