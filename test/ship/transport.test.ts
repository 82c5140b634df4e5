// The transport's bodyInto: a successful answer's body lands in the memory the caller gives (shared memory included),
// an answer that does not fit or has no length gets a buffer of its own, and a short answer is an error.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../agent/ship/endpoint.js';
import { Transport } from '../../agent/ship/transport.js';

let server: http.Server;
let transport: Transport;
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  transport = new Transport(parseEndpoint(`http://127.0.0.1:${port}`), { timeoutMs: 5000, maxSockets: 2 });
});

afterAll(async () => {
  transport?.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

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
