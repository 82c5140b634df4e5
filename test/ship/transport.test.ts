// The transport's bodyInto: a successful answer's body lands in the memory the caller gives (shared memory included),
// an answer that does not fit or has no length gets a buffer of its own, and a short answer is an error.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../agent/ship/endpoint.js';
import { Transport } from '../../agent/ship/transport.js';

let server: http.Server;
let transport: Transport;

/** `srv` listening on a loopback port, and a Transport to it. */
async function listenWithTransport(srv: net.Server, timeoutMs: number): Promise<Transport> {
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  return new Transport(parseEndpoint(`http://127.0.0.1:${port}`), { timeoutMs, maxSockets: 2 });
}

async function closeBoth(t: Transport | undefined, srv: net.Server): Promise<void> {
  t?.close();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
}
const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff));

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/chunked') {
      res.writeHead(200);
      res.write(body.subarray(0, 1000));
      res.end(body.subarray(1000));
    } else if (req.url === '/error') {
      res.writeHead(404, { 'content-length': 5 });
      res.end('nope!');
    } else {
      res.writeHead(200, { 'content-length': body.length });
      // In pieces, so that the body arrives in several chunks.
      for (let at = 0; at < body.length; at += 70_000) res.write(body.subarray(at, at + 70_000));
      res.end();
    }
  });
  transport = await listenWithTransport(server, 5000);
});

afterAll(() => closeBoth(transport, server));

const call = (target: string, bodyInto?: (n: number) => Buffer | undefined) => transport.send({ method: 'GET', target, headers: {}, operation: 'test', ...(bodyInto ? { bodyInto } : {}) });

describe('Transport bodyInto', () => {
  it('copies a successful body into the memory given for its length, shared memory included', async () => {
    const memory = Buffer.from(new SharedArrayBuffer(1 << 20));
    const asked: number[] = [];
    const answer = await call('/sized', (n) => (asked.push(n), memory.subarray(0, n)));
    expect(asked).toEqual([body.length]);
    expect(answer.body.buffer).toBe(memory.buffer);
    expect(answer.body.equals(body)).toBe(true);
  });

  it('gathers the body itself when the memory is not given, the answer has no length, or it is an error', async () => {
    const small = await call('/sized', () => undefined);
    expect(small.body.equals(body)).toBe(true);
    let asked = 0;
    const chunked = await call('/chunked', () => (asked++, Buffer.alloc(1 << 20)));
    expect(asked).toBe(0);
    expect(chunked.body.equals(body)).toBe(true);
    const error = await call('/error', () => (asked++, Buffer.alloc(16)));
    expect(asked).toBe(0);
    expect([error.status, error.body.toString()]).toEqual([404, 'nope!']);
  });
});

describe('Transport, a plain-HTTP GET with memory for the body (read straight into it)', () => {
  // A server written byte by byte, to choose how the answer arrives and what the connection does afterwards.
  let raw: net.Server;
  let direct: Transport;
  let connections = 0;
  const big = Buffer.from(Array.from({ length: 1_000_003 }, (_, i) => (i * 13 + 5) & 0xff));
  const head = (length: number, extra = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\nX-Log-Cursor: c1\r\nX-Two: a\r\nX-Two: b\r\n${extra}\r\n`;

  beforeAll(async () => {
    raw = net.createServer((socket) => {
      connections++;
      let pending = '';
      socket.on('data', (d) => {
        pending += d.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          const request = pending.slice(0, end);
          pending = pending.slice(end + 4);
          const target = request.split(' ')[1]!;
          if (target === '/whole') socket.write(Buffer.concat([Buffer.from(head(big.length), 'latin1'), big]));
          else if (target === '/pieces') {
            const all = Buffer.concat([Buffer.from(head(big.length), 'latin1'), big]);
            let at = 0;
            const step = () => {
              if (at >= all.length) return;
              socket.write(all.subarray(at, (at += 1 + ((at * 31) % 9000))));
              setImmediate(step);
            };
            step();
          } else if (target === '/empty') socket.write(head(0));
          else if (target === '/close') socket.end(Buffer.concat([Buffer.from(head(5, 'Connection: close\r\n'), 'latin1'), Buffer.from('bye!!')]));
          else if (target === '/hangup') socket.destroy(); // drops an idle keep-alive connection's next request
          else if (target === '/short') socket.end(Buffer.concat([Buffer.from(head(100), 'latin1'), big.subarray(0, 10)]));
          else if (target === '/slow') setTimeout(() => socket.write(head(0)), 2000);
          else if (target === '/chunked') socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
          else if (target.startsWith('/echo')) {
            const text = Buffer.from(request, 'latin1');
            socket.write(Buffer.concat([Buffer.from(head(text.length), 'latin1'), text]));
          }
        }
      });
      socket.on('error', () => {});
    });
    direct = await listenWithTransport(raw, 500);
  });

  afterAll(() => closeBoth(direct, raw));

  const get = (target: string, memory: Buffer, signal?: AbortSignal, headers: Record<string, string> = {}) =>
    direct.send({ method: 'GET', target, headers, operation: 'test', bodyInto: (n) => (n <= memory.length ? memory.subarray(0, n) : undefined) }, signal);

  it('reads the body into the memory given, however it arrives, one connection after another call', async () => {
    const memory = Buffer.from(new SharedArrayBuffer(2 << 20));
    const before = connections;
    for (const target of ['/whole', '/pieces', '/empty', '/whole', '/pieces']) {
      memory.fill(0);
      const answer = await get(target, memory);
      expect(answer.status).toBe(200);
      expect(answer.headers['x-log-cursor']).toBe('c1');
      expect(answer.headers['x-two']).toBe('a, b');
      if (target === '/empty') expect(answer.body.length).toBe(0);
      else {
        expect(answer.body.buffer).toBe(memory.buffer);
        expect(answer.body.equals(big)).toBe(true);
      }
    }
    expect(connections - before).toBe(1);
    // Memory too small: a buffer of its own, same bytes.
    const own = await get('/whole', Buffer.alloc(10));
    expect(own.body.equals(big)).toBe(true);
  });

  it('sends the headers as given and a Host, and refuses a header that would split the request', async () => {
    const answer = await get('/echo?x=1', Buffer.alloc(4096), undefined, { 'x-log-apiversion': '0.6.0', Date: 'now' });
    expect(answer.body.toString('latin1')).toMatch(/^GET \/echo\?x=1 HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\nx-log-apiversion: 0\.6\.0\r\nDate: now$/);
    await expect(get('/echo', Buffer.alloc(16), undefined, { bad: 'a\r\nX-Injected: 1' })).rejects.toThrow(/invalid character/);
  });

  it('opens a new connection after Connection: close, and sends again when a kept one was dropped', async () => {
    expect((await get('/close', Buffer.alloc(16))).body.toString()).toBe('bye!!');
    expect((await get('/empty', Buffer.alloc(16))).status).toBe(200);
    // The server drops the connection instead of answering: a kept connection, so the call goes again on a new one,
    // which the server drops too; that second failure is the caller's.
    await expect(get('/hangup', Buffer.alloc(16))).rejects.toMatchObject({ code: 'NetworkError' });
    expect((await get('/whole', Buffer.alloc(2 << 20))).body.equals(big)).toBe(true);
  });

  it('fails a short answer, a deadline and an abort with their codes, and sends what it does not read the usual way', async () => {
    await expect(get('/short', Buffer.alloc(1000))).rejects.toMatchObject({ code: 'NetworkError' });
    await expect(get('/slow', Buffer.alloc(16))).rejects.toMatchObject({ code: 'RequestTimeout' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    await expect(get('/slow', Buffer.alloc(16), abort.signal)).rejects.toMatchObject({ code: 'Aborted' });
    const chunked = await get('/chunked', Buffer.alloc(16));
    expect(chunked.body.toString()).toBe('abc');
    expect((await get('/whole', Buffer.alloc(2 << 20))).body.equals(big)).toBe(true);
  });
});
