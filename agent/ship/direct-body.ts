// GET answers over plain HTTP/1.1 whose body the kernel reads straight into the memory the caller lends (net's
// `onread` with a buffer chosen for every read): no HTTP parser copying each chunk, no chunk Buffers, no second copy.
// Only what a PullLogs reader needs: one request at a time on each keep-alive connection, answers with a
// Content-Length. Anything else (chunked or unsized answers, 1xx, a header block over 64 KiB) is NotDirect, and the
// caller sends the call again the usual way (node:http).
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';

/** The answer is not one this path reads: send the call through node:http instead. */
export class NotDirect extends Error {
  override readonly name = 'NotDirect';
}

/** A connection that had served earlier calls failed before any byte of the answer: the call may be sent again. */
export class StaleConnection extends Error {
  override readonly name = 'StaleConnection';
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

export interface DirectAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface DirectCall {
  target: string;
  headers: Record<string, string>;
  /** Memory for a successful answer's body, given its length; undefined gets a buffer of its own. */
  bodyInto: (length: number) => Buffer | undefined;
}

const HEAD_BYTES = 64 * 1024;
const END_OF_HEAD = Buffer.from('\r\n\r\n', 'latin1');
const UNSAFE = /[\r\n\0]/;

interface Exchange {
  resolve: (answer: DirectAnswer) => void;
  reject: (err: Error) => void;
  bodyInto: DirectCall['bodyInto'];
  received: boolean;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer | undefined;
  at: number;
}

/** The request's bytes; throws on a target or header that would split it. */
function requestText(call: DirectCall, host: string): string {
  if (UNSAFE.test(call.target) || call.target.includes(' ')) throw new TypeError('invalid character in the request target');
  const lines = [`GET ${call.target} HTTP/1.1`];
  if (!Object.keys(call.headers).some((k) => k.toLowerCase() === 'host')) lines.push(`Host: ${host}`);
  for (const [k, v] of Object.entries(call.headers)) {
    if (UNSAFE.test(k) || UNSAFE.test(v) || k.includes(':')) throw new TypeError(`invalid character in header ${JSON.stringify(k)}`);
    lines.push(`${k}: ${v}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function parseHead(text: string): { status: number; headers: IncomingHttpHeaders } {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!m) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const headers: IncomingHttpHeaders = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not an HTTP header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers[name];
    if (name === 'set-cookie') headers[name] = [...((had as string[] | undefined) ?? []), value];
    else headers[name] = had === undefined ? value : `${had as string}, ${value}`;
  }
  return { status: Number(m[1]), headers };
}

/** One keep-alive connection; its reads go into the header block's memory or the body's, whichever comes next. */
class Connection {
  readonly socket: net.Socket;
  served = 0;
  private readonly head = Buffer.allocUnsafe(HEAD_BYTES);
  private headLength = 0;
  private exchange: Exchange | undefined;
  private dead = false;

  constructor(
    host: string,
    port: number,
    private readonly onIdle: (c: Connection) => void,
    private readonly onGone: (c: Connection) => void,
  ) {
    this.socket = net.connect({ host, port, noDelay: true, onread: { buffer: () => this.nextBuffer(), callback: (n: number) => this.received(n) } });
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('the connection closed before the response ended')));
  }

  request(text: string, bodyInto: DirectCall['bodyInto']): Promise<DirectAnswer> {
    return new Promise<DirectAnswer>((resolve, reject) => {
      this.exchange = { resolve, reject, bodyInto, received: false, status: 0, headers: {}, body: undefined, at: 0 };
      this.socket.write(text, 'latin1');
    });
  }

  destroy(err: Error): void {
    this.fail(err);
  }

  /** Where the next read goes: the rest of the body, or the header block's memory. Never empty. */
  private nextBuffer(): Buffer {
    const x = this.exchange;
    if (x?.body && x.at < x.body.length) return x.body.subarray(x.at);
    return this.head.subarray(this.headLength);
  }

  private received(n: number): boolean {
    const x = this.exchange;
    if (!x) {
      this.fail(new Error('bytes arrived with no request waiting'));
      return false;
    }
    x.received = true;
    if (x.body && x.at < x.body.length) {
      x.at += n;
    } else {
      this.headLength += n;
      if (!this.readHead(x)) return !this.dead;
    }
    if (x.body && x.at === x.body.length) this.finish(x);
    return !this.dead;
  }

  /** True once the header block is read and the body's memory chosen (the bytes after it moved there). */
  private readHead(x: Exchange): boolean {
    const end = this.head.subarray(0, this.headLength).indexOf(END_OF_HEAD);
    if (end < 0) {
      if (this.headLength === HEAD_BYTES) this.fail(new NotDirect('the header block is larger than 64 KiB'));
      return false;
    }
    let parsed;
    try {
      parsed = parseHead(this.head.toString('latin1', 0, end));
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
    const length = Number(parsed.headers['content-length'] ?? NaN);
    if (parsed.status < 200 || parsed.headers['transfer-encoding'] !== undefined || !Number.isSafeInteger(length) || length < 0) {
      this.fail(new NotDirect(`an answer this path does not read (status ${parsed.status}, ${parsed.headers['transfer-encoding'] ?? 'no'} transfer-encoding, length ${parsed.headers['content-length'] ?? 'none'})`));
      return false;
    }
    const after = this.headLength - end - END_OF_HEAD.length;
    if (after > length) {
      this.fail(new Error('the answer held more bytes than its Content-Length says'));
      return false;
    }
    const given = parsed.status < 300 ? x.bodyInto(length) : undefined;
    x.status = parsed.status;
    x.headers = parsed.headers;
    x.body = given && given.length >= length ? given.subarray(0, length) : Buffer.allocUnsafe(length);
    this.head.copy(x.body, 0, end + END_OF_HEAD.length, this.headLength);
    x.at = after;
    this.headLength = 0;
    return true;
  }

  private finish(x: Exchange): void {
    this.exchange = undefined;
    this.served++;
    x.resolve({ status: x.status, headers: x.headers, body: x.body! });
    if (/\bclose\b/i.test(String(x.headers.connection ?? ''))) this.fail(new Error('closed by the server'));
    else this.onIdle(this);
  }

  private fail(err: Error): void {
    const x = this.exchange;
    this.exchange = undefined;
    if (x) x.reject(!x.received && this.served > 0 && !(err instanceof NotDirect) ? new StaleConnection(err) : err);
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
    this.onGone(this);
  }
}

/** Keep-alive connections to one plain-HTTP endpoint for DirectCalls; at most `maxFree` stay open while idle. */
export class DirectBodies {
  private readonly idle: Connection[] = [];

  constructor(
    private readonly hostname: string,
    private readonly port: number,
    private readonly maxFree: number,
  ) {}

  /** Sends `call` on an idle connection (the last one used) or a new one; `onConnection` may destroy it (deadline, abort). */
  send(call: DirectCall, onConnection: (destroy: (err: Error) => void) => void): Promise<DirectAnswer> {
    const text = requestText(call, this.hostname.includes(':') ? `[${this.hostname}]:${this.port}` : `${this.hostname}:${this.port}`);
    const connection =
      this.idle.pop() ??
      new Connection(
        this.hostname,
        this.port,
        (c) => {
          if (this.idle.length < this.maxFree) this.idle.push(c);
          else c.destroy(new Error('more idle connections than kept'));
        },
        (c) => {
          const i = this.idle.indexOf(c);
          if (i >= 0) this.idle.splice(i, 1);
        },
      );
    const answer = connection.request(text, call.bodyInto);
    onConnection((err) => connection.destroy(err));
    return answer;
  }

  close(): void {
    for (const c of this.idle.splice(0)) c.destroy(new Error('closed'));
  }
}
