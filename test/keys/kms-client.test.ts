// KmsClient against the KMS emulator over real HTTP: data keys round-trip, and every failure becomes a KmsError.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptionContext, KmsClient, KmsError, type KmsClientOptions } from '../../agent/keys/index.js';
import { startKmsEmulator, type KmsEmulator } from '../../emulators/kms/index.js';

const AK = 'agent-key-id';
const SECRET = 'agent-key-secret-do-not-print';

let dataDir: string;
let emu: KmsEmulator;
let cmk: string;
const context = encryptionContext('proj', 'app-logs');

function kmsClient(o: Partial<KmsClientOptions> = {}): KmsClient {
  return new KmsClient({ endpoint: emu.url, regionId: 'cn-hangzhou', accessKeyId: AK, accessKeySecret: SECRET, ...o });
}

async function failure(p: Promise<unknown>): Promise<KmsError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KmsError);
    return err as KmsError;
  }
  throw new Error('expected a KmsError');
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'logseal-keys-'));
  emu = await startKmsEmulator({ dataDir, accessKeyId: AK, accessKeySecret: SECRET });
  cmk = (await emu.keyring.createKey()).keyId;
});

afterAll(async () => {
  await emu?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('encryptionContext', () => {
  it('is the FORMAT.md object, in that key order', () => {
    expect(JSON.stringify(encryptionContext('p', 'l'))).toBe('{"logseal":"1","project":"p","logstore":"l"}');
  });
});

describe('KmsClient', () => {
  it('generates a data key that Decrypt gives back under the same context', async () => {
    const c = kmsClient();
    for (const n of [32, 16]) {
      const dk = await c.generateDataKey(cmk, n, context);
      expect(dk.keyId).toBe(cmk);
      expect(dk.keyVersionId).not.toBe('');
      expect(dk.plaintext).toBeInstanceOf(Uint8Array);
      expect(dk.plaintext).toHaveLength(n);
      expect(await c.decrypt(dk.blob, context)).toEqual(dk.plaintext);
    }
  });

  it('sends the context KMS-style, so the emulator binds exactly those pairs', async () => {
    const dk = await kmsClient().generateDataKey(cmk, 32, context);
    expect((await emu.keyring.decrypt(dk.blob, context)).plaintext).toEqual(Buffer.from(dk.plaintext));
    await expect(emu.keyring.decrypt(dk.blob, encryptionContext('proj', 'other'))).rejects.toMatchObject({ code: 'InvalidParameter' });
  });

  it('accepts a host:port endpoint as https', async () => {
    // The emulator speaks plain HTTP, so a TLS handshake against it fails: proof the client chose https.
    const e = await failure(kmsClient({ endpoint: `127.0.0.1:${emu.port}`, timeoutMs: 2000 }).generateDataKey(cmk, 32, context));
    expect(e).toMatchObject({ code: 'NetworkError', retryable: true, cmkUnusable: false });
  });

  it('refuses endpoints that are not http(s)://host[:port]', () => {
    for (const endpoint of ['ftp://kms.example.com', 'http://127.0.0.1:1/path', 'http://']) {
      expect(() => kmsClient({ endpoint })).toThrow(KmsError);
    }
  });

  it('maps a disabled, deleted or unknown CMK to cmkUnusable', async () => {
    const c = kmsClient();
    const { keyId } = await emu.keyring.createKey();
    const dk = await c.generateDataKey(keyId, 32, context);
    await emu.keyring.setEnabled(keyId, false);
    const disabled = await failure(c.generateDataKey(keyId, 32, context));
    expect(disabled).toMatchObject({ code: 'Rejected.Disabled', status: 409, cmkUnusable: true, retryable: false });
    expect(disabled.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(await failure(c.decrypt(dk.blob, context))).toMatchObject({ code: 'Rejected.Disabled', cmkUnusable: true });
    await emu.keyring.scheduleDeletion(keyId, 7);
    expect(await failure(c.generateDataKey(keyId, 32, context))).toMatchObject({
      code: 'Rejected.PendingDeletion',
      status: 409,
      cmkUnusable: true,
    });
    expect(await failure(c.generateDataKey('alias/none', 32, context))).toMatchObject({
      code: 'Forbidden.KeyNotFound',
      status: 404,
      cmkUnusable: true,
    });
  });

  it('reports a wrong secret as a single-line, non-retryable error that does not contain the secret', async () => {
    const wrongSecret = 'wrong-secret-value';
    const e = await failure(kmsClient({ accessKeySecret: wrongSecret }).generateDataKey(cmk, 32, context));
    expect(e).toMatchObject({ code: 'SignatureDoesNotMatch', status: 400, retryable: false, cmkUnusable: false });
    expect(e.message).not.toMatch(/\n/);
    expect(e.message).not.toContain(wrongSecret);
    expect(e.message).not.toContain(AK);
  });

  it('marks 5xx, ServiceUnavailableTemporary and Throttling as retryable', async () => {
    const c = kmsClient();
    const cases = [
      { errorCode: 'ServiceUnavailableTemporary', errorStatus: 503 },
      { errorCode: 'InternalFailure', errorStatus: 500 },
      { errorCode: 'Throttling.User', errorStatus: 400 },
      { errorCode: 'SomethingNew', errorStatus: 502 },
    ];
    try {
      for (const f of cases) {
        emu.faults.set(f);
        expect(await failure(c.generateDataKey(cmk, 32, context))).toMatchObject({
          code: f.errorCode,
          status: f.errorStatus,
          retryable: true,
          cmkUnusable: false,
        });
      }
      emu.faults.set({ errorCode: 'Forbidden.NoPermission', errorStatus: 403 });
      expect(await failure(c.generateDataKey(cmk, 32, context))).toMatchObject({ retryable: false, cmkUnusable: false });
    } finally {
      emu.faults.clear();
    }
  });

  it('maps timeouts and refused connections to retryable errors', async () => {
    emu.faults.set({ latencyMs: 400 });
    try {
      expect(await failure(kmsClient({ timeoutMs: 100 }).generateDataKey(cmk, 32, context))).toMatchObject({
        code: 'Timeout',
        status: 0,
        retryable: true,
      });
    } finally {
      emu.faults.clear();
    }
    const closed = await listenAndClose();
    expect(await failure(kmsClient({ endpoint: `http://127.0.0.1:${closed}` }).generateDataKey(cmk, 32, context))).toMatchObject({
      code: 'NetworkError',
      retryable: true,
    });
  });

  it('treats a non-KMS error page as a retryable error when its status is 5xx', async () => {
    const proxy = await htmlServer(502);
    try {
      const port = (proxy.address() as AddressInfo).port;
      const e = await failure(kmsClient({ endpoint: `http://127.0.0.1:${port}` }).generateDataKey(cmk, 32, context));
      expect(e).toMatchObject({ retryable: true, cmkUnusable: false });
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });
});

/** A port nothing listens on any more. */
async function listenAndClose(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function htmlServer(status: number): Promise<Server> {
  const s = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/html' });
    res.end('<html><body>Bad Gateway</body></html>');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}
