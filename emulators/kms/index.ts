// A local KMS that speaks the RPC API (version 2016-01-20) well enough for the official @alicloud/kms20160120 client.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { actions, type Params } from './actions.js';
import { KmsServiceError } from './errors.js';
import { KmsKeyring } from './keyring.js';
import { rpcSignatureMatches } from './rpc-signature.js';

export { KmsKeyring, type KeyMetadata, type KeySpec, type KeyState } from './keyring.js';
export { KmsServiceError } from './errors.js';

export interface KmsEmulatorOptions {
  dataDir: string;
  port?: number;
  host?: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Default `cn-hangzhou`; ARNs must name it. */
  regionId?: string;
  /** Default `1234567890123456`; ARNs must name it. */
  accountId?: string;
}

export interface KmsFaultSettings {
  /** Share of requests (0..1) answered with the error. Defaults to 1 when errorCode or errorStatus is set. */
  errorRate?: number;
  /** Default `ServiceUnavailableTemporary`. */
  errorCode?: string;
  /** Default 503. */
  errorStatus?: number;
  /** Added before every answer. */
  latencyMs?: number;
  /** Only these actions are affected; all when absent. */
  actions?: string[];
}

export interface KmsEmulatorStats {
  requests: number;
  byAction: Record<string, number>;
  rejected: Record<string, number>;
}

export interface KmsEmulator {
  url: string;
  port: number;
  keyring: KmsKeyring;
  faults: { set(f: KmsFaultSettings): void; clear(): void; current(): KmsFaultSettings };
  stats(): KmsEmulatorStats;
  close(): Promise<void>;
}

const API_VERSION = '2016-01-20';
const MAX_SKEW_MS = 15 * 60_000;
/** A nonce can only be replayed while its Timestamp is still inside the ±15 min window: 30 min after we saw it. */
const NONCE_MEMORY_MS = 2 * MAX_SKEW_MS + 60_000;
const MAX_BODY_BYTES = 1 << 20;

/** Replayed `SignatureNonce`s are refused; entries arrive in time order, so expiry pops from the front. */
class NonceMemory {
  private readonly seen = new Map<string, number>();

  /** True the first time a nonce is offered. */
  remember(nonce: string, now: number): boolean {
    for (const [n, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(n);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now + NONCE_MEMORY_MS);
    return true;
  }
}

function fail(code: string, status: number, message: string): never {
  throw new KmsServiceError(code, status, message);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) fail('InvalidParameter', 400, 'The request body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>, requestId: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-acs-request-id': requestId,
  });
  res.end(text);
}

/** Signature, clock and replay checks, in the order a caller can best act on. */
function authenticate(method: string, p: Params, o: KmsEmulatorOptions, nonces: NonceMemory): void {
  if (!p['Signature'] || !p['SignatureNonce'] || !p['AccessKeyId']) {
    fail('IncompleteSignature', 400, 'The request signature does not conform to Aliyun standards');
  }
  if (p['SignatureMethod'] !== 'HMAC-SHA1' || p['SignatureVersion'] !== '1.0') {
    fail('IncompleteSignature', 400, 'Only SignatureMethod HMAC-SHA1 with SignatureVersion 1.0 is supported');
  }
  const timestamp = p['Timestamp'];
  if (!timestamp || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
    fail('IllegalTimestamp', 400, 'The input parameter "Timestamp" that is mandatory for processing this request is not supplied');
  }
  const now = Date.now();
  if (Math.abs(now - Date.parse(timestamp)) > MAX_SKEW_MS) {
    fail('InvalidTimeStamp.Expired', 400, 'Specified time stamp or date value is expired');
  }
  if (p['AccessKeyId'] !== o.accessKeyId) fail('InvalidAccessKeyId.NotFound', 404, 'Specified access key is not found');
  if (!rpcSignatureMatches(method, p, o.accessKeySecret, p['Signature'])) {
    fail('SignatureDoesNotMatch', 400, 'Specified signature is not matched with our calculation');
  }
  if (!nonces.remember(p['SignatureNonce'], now)) {
    fail('SignatureNonceUsed', 400, 'Specified signature nonce was used already');
  }
}

export async function startKmsEmulator(o: KmsEmulatorOptions): Promise<KmsEmulator> {
  const regionId = o.regionId ?? 'cn-hangzhou';
  const accountId = o.accountId ?? '1234567890123456';
  const keyring = await KmsKeyring.open({ dataDir: o.dataDir, regionId, accountId });
  const nonces = new NonceMemory();
  let faults: KmsFaultSettings = {};
  const stats: KmsEmulatorStats = { requests: 0, byAction: {}, rejected: {} };

  async function applyFaults(action: string): Promise<void> {
    const f = faults;
    if (f.actions && !f.actions.includes(action)) return;
    if (f.latencyMs) await sleep(f.latencyMs);
    const rate = f.errorRate ?? (f.errorCode !== undefined || f.errorStatus !== undefined ? 1 : 0);
    if (rate > 0 && Math.random() < rate) {
      fail(f.errorCode ?? 'ServiceUnavailableTemporary', f.errorStatus ?? 503, 'Injected fault: the service is unavailable');
    }
  }

  /** `/_emulator/faults` and `/_emulator/stats`, for chaos runs against an emulator started elsewhere. */
  async function control(req: IncomingMessage, res: ServerResponse, path: string, requestId: string): Promise<void> {
    if (req.headers['x-emulator-secret'] !== o.accessKeySecret) fail('Forbidden', 403, 'Bad x-emulator-secret');
    if (path === '/_emulator/stats' && req.method === 'GET') return send(res, 200, { ...stats }, requestId);
    if (path === '/_emulator/faults' && req.method === 'GET') return send(res, 200, { ...faults }, requestId);
    if (path === '/_emulator/faults' && req.method === 'PUT') {
      try {
        faults = JSON.parse((await readBody(req)).toString('utf8') || '{}') as KmsFaultSettings;
      } catch {
        fail('InvalidParameter', 400, 'The fault settings are not JSON');
      }
      return send(res, 200, { ...faults }, requestId);
    }
    fail('InvalidAction.NotFound', 404, `No emulator control at ${req.method} ${path}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID().toUpperCase();
    let action = '';
    try {
      const url = new URL(req.url ?? '/', 'http://kms.invalid');
      if (url.pathname.startsWith('/_emulator/')) return await control(req, res, url.pathname, requestId);
      const method = req.method ?? 'GET';
      if (url.pathname !== '/' || (method !== 'POST' && method !== 'GET')) {
        fail('InvalidAction.NotFound', 404, 'Specified api is not found, please check your url and method');
      }
      const params: Params = Object.fromEntries(url.searchParams);
      const body = await readBody(req);
      if (body.length > 0 && String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
      }
      action = params['Action'] ?? '';
      stats.requests++;
      stats.byAction[action] = (stats.byAction[action] ?? 0) + 1;
      await applyFaults(action);
      authenticate(method, params, o, nonces);
      if (params['Version'] !== API_VERSION) fail('InvalidVersion', 400, 'Specified parameter Version is not valid');
      const run = Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!run) fail('InvalidAction.NotFound', 404, 'Specified api is not found, please check your url and method');
      send(res, 200, { ...(await run(keyring, params)), RequestId: requestId }, requestId);
    } catch (err) {
      const e =
        err instanceof KmsServiceError ? err : new KmsServiceError('InternalFailure', 500, 'An internal error occurred');
      stats.rejected[e.code] = (stats.rejected[e.code] ?? 0) + 1;
      if (res.headersSent) return void res.destroy();
      send(res, e.status, { Code: e.code, Message: e.message, RequestId: requestId, HttpStatus: e.status }, requestId);
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host ?? '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    keyring,
    faults: {
      set(f) {
        faults = { ...f };
      },
      clear() {
        faults = {};
      },
      current() {
        return { ...faults };
      },
    },
    stats: () => structuredClone(stats),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The keyring shaped as the SLS emulator's `AtRestKms` (BYOK encryption at rest). Errors keep the keyring's
 * `code` (`Rejected.Disabled`, `Rejected.PendingDeletion`, `Forbidden.KeyNotFound`).
 */
export function atRestKms(keyring: KmsKeyring): {
  generateDataKey(cmkId: string, numberOfBytes: number, context: Record<string, string>): Promise<{ plaintext: Buffer; blob: string }>;
  decrypt(blob: string, context: Record<string, string>): Promise<Buffer>;
  keyState(cmkId: string): Promise<'Enabled' | 'Disabled' | 'PendingDeletion' | 'NotFound'>;
} {
  return {
    async generateDataKey(cmkId, numberOfBytes, context) {
      const k = await keyring.generateDataKey(cmkId, numberOfBytes, context);
      return { plaintext: k.plaintext, blob: k.blob };
    },
    async decrypt(blob, context) {
      return (await keyring.decrypt(blob, context)).plaintext;
    },
    async keyState(cmkId) {
      return keyring.keyState(cmkId);
    },
  };
}
