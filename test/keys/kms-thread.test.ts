// The KMS thread over real HTTP to the KMS emulator: it starts at the first call, stops once idle, starts again at the
// next call, and the errors it hands back keep their KMS codes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptionContext, KmsError } from '../../agent/keys/index.js';
import type { SdkTarget } from '../../agent/keys/kms-sdk-call.js';
import { KmsThread } from '../../agent/keys/kms-thread.js';
import { startKmsEmulator, type KmsEmulator } from '../../emulators/kms/index.js';

const AK = 'thread-key-id';
const SECRET = 'thread-key-secret';

let dataDir: string;
let emu: KmsEmulator;
let cmk: string;
let target: SdkTarget;
const context = encryptionContext('proj', 'app-logs');

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'logseal-kms-thread-'));
  emu = await startKmsEmulator({ dataDir, accessKeyId: AK, accessKeySecret: SECRET });
  cmk = (await emu.keyring.createKey()).keyId;
  const url = new URL(emu.url);
  target = { host: url.host, protocol: 'http', regionId: 'cn-hangzhou', accessKeyId: AK, accessKeySecret: SECRET, timeoutMs: 5000 };
});

afterAll(async () => {
  await emu?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const until = async (what: string, ok: () => boolean) => {
  for (const end = Date.now() + 5000; !ok(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
};

describe('KmsThread', () => {
  it('runs only while calls come: stopped before the first, gone after the idle time, back for the next', async () => {
    const thread = new KmsThread(150);
    expect(thread.running).toBe(false);
    const a = await thread.call(target, { op: 'generateDataKey', keyId: cmk, numberOfBytes: 32, context });
    expect(thread.running).toBe(true);
    expect(Buffer.from(a.plaintext!, 'base64')).toHaveLength(32);
    await until('the idle thread to stop', () => !thread.running);

    // Calls made side by side share one thread, and Decrypt gives back the key GenerateDataKey made.
    const [b, again] = await Promise.all([
      thread.call(target, { op: 'generateDataKey', keyId: cmk, numberOfBytes: 16, context }),
      thread.call(target, { op: 'decrypt', blob: a.ciphertextBlob!, context }),
    ]);
    expect(thread.running).toBe(true);
    expect(Buffer.from(b.plaintext!, 'base64')).toHaveLength(16);
    expect(again.plaintext).toBe(a.plaintext);
    await until('the idle thread to stop', () => !thread.running);
  });

  it('hands back KMS errors with their code, status and what they mean for the key', async () => {
    const thread = new KmsThread(50);
    const wrong = await thread.call({ ...target, accessKeySecret: 'not-the-secret' }, { op: 'generateDataKey', keyId: cmk, numberOfBytes: 32, context }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(KmsError);
    expect(wrong).toMatchObject({ code: 'SignatureDoesNotMatch', retryable: false, cmkUnusable: false });
    expect((wrong as KmsError).status).toBeGreaterThanOrEqual(400);

    const unknown = await thread.call(target, { op: 'generateDataKey', keyId: 'no-such-key', numberOfBytes: 32, context }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(KmsError);
    expect(unknown).toMatchObject({ cmkUnusable: true });
  });
});
