// The KMS emulator, driven through real HTTP by the official @alicloud/kms20160120 client and by hand-signed requests.
import kmsSdk, * as $kms from '@alicloud/kms20160120';
import { Config } from '@alicloud/rpc-client';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBlobHeader } from '../../emulators/kms/blob.js';
import { atRestKms, startKmsEmulator, type KmsEmulator } from '../../emulators/kms/index.js';
import { percentEncode, rpcSignature, rpcTimestamp } from '../../emulators/kms/rpc-signature.js';

const AK = 'test-access-key-id';
const SECRET = 'test-access-key-secret';
const SdkClient = ((kmsSdk as unknown as { default?: unknown }).default ?? kmsSdk) as typeof kmsSdk.default;

function client(port: number, secret = SECRET, accessKeyId = AK): InstanceType<typeof SdkClient> {
  return new SdkClient(
    new Config({ accessKeyId, accessKeySecret: secret, endpoint: `127.0.0.1:${port}`, protocol: 'http', regionId: 'cn-hangzhou' }),
  );
}

/** What the SDK threw, reduced to the KMS error fields. */
async function kmsFailure(p: Promise<unknown>): Promise<{ code: string; status: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const data = (err as { data?: Record<string, unknown> }).data ?? {};
    return { code: String(data['Code']), status: Number(data['HttpStatus']), message: String(data['Message']) };
  }
  throw new Error('expected the call to fail');
}

function signedParams(params: Record<string, string>, secret = SECRET, method = 'POST'): Record<string, string> {
  const all: Record<string, string> = {
    Format: 'json',
    Version: '2016-01-20',
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    AccessKeyId: AK,
    Timestamp: rpcTimestamp(Date.now()),
    SignatureNonce: randomUUID(),
    ...params,
  };
  all['Signature'] = rpcSignature(method, all, secret);
  return all;
}

async function raw(port: number, params: Record<string, string>, method = 'POST'): Promise<{ status: number; body: Record<string, unknown> }> {
  const qs = Object.entries(params)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  const res = await fetch(`http://127.0.0.1:${port}/?${qs}`, { method });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

let dataDir: string;
let emu: KmsEmulator;
let kms: InstanceType<typeof SdkClient>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'logseal-kms-'));
  emu = await startKmsEmulator({ dataDir, accessKeyId: AK, accessKeySecret: SECRET });
  kms = client(emu.port);
});

afterAll(async () => {
  await emu?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function newKey(spec?: 'Aliyun_AES_256' | 'Aliyun_SM4'): Promise<string> {
  const res = await kms.createKey(new $kms.CreateKeyRequest(spec ? { keySpec: spec } : {}));
  return res.keyMetadata.keyId;
}

describe('request authentication', () => {
  it('accepts requests the official client signs', async () => {
    const res = await kms.createKey(new $kms.CreateKeyRequest({ description: 'signed' }));
    expect(res.keyMetadata.keySpec).toBe('Aliyun_AES_256');
    expect(res.keyMetadata.keyState).toBe('Enabled');
    expect(res.requestId).toMatch(/^[0-9A-F-]{36}$/);
    const described = await kms.describeKey(new $kms.DescribeKeyRequest({ keyId: res.keyMetadata.keyId }));
    expect(described.keyMetadata.description).toBe('signed');
  });

  it('accepts a hand-signed GET as well as POST', async () => {
    const res = await raw(emu.port, signedParams({ Action: 'ListKeys' }, SECRET, 'GET'), 'GET');
    expect(res.status).toBe(200);
  });

  it('refuses a wrong secret with SignatureDoesNotMatch', async () => {
    const f = await kmsFailure(client(emu.port, 'not-the-secret').listKeys(new $kms.ListKeysRequest({})));
    expect(f).toMatchObject({ code: 'SignatureDoesNotMatch', status: 400 });
    expect(f.message).not.toContain(SECRET);
  });

  it('refuses an unknown AccessKeyId', async () => {
    const f = await kmsFailure(client(emu.port, SECRET, 'someone-else').listKeys(new $kms.ListKeysRequest({})));
    expect(f).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', status: 404 });
  });

  it('refuses a request whose parameters changed after signing', async () => {
    const params = signedParams({ Action: 'CreateKey', Description: 'original' });
    params['Description'] = 'changed';
    const res = await raw(emu.port, params);
    expect(res).toMatchObject({ status: 400, body: { Code: 'SignatureDoesNotMatch' } });
  });

  it('refuses a replayed SignatureNonce', async () => {
    const params = signedParams({ Action: 'ListKeys' });
    expect((await raw(emu.port, params)).status).toBe(200);
    const replay = await raw(emu.port, params);
    expect(replay).toMatchObject({ status: 400, body: { Code: 'SignatureNonceUsed', HttpStatus: 400 } });
    expect(replay.body['RequestId']).toEqual(expect.any(String));
  });

  it('refuses a Timestamp more than 15 minutes off, either way', async () => {
    for (const offset of [-16 * 60_000, 16 * 60_000]) {
      const res = await raw(emu.port, signedParams({ Action: 'ListKeys', Timestamp: rpcTimestamp(Date.now() + offset) }));
      expect(res).toMatchObject({ status: 400, body: { Code: 'InvalidTimeStamp.Expired' } });
    }
    const nearEdge = await raw(emu.port, signedParams({ Action: 'ListKeys', Timestamp: rpcTimestamp(Date.now() - 14 * 60_000) }));
    expect(nearEdge.status).toBe(200);
  });

  it('refuses a missing Timestamp and a missing Signature', async () => {
    const noTimestamp = signedParams({ Action: 'ListKeys' });
    delete noTimestamp['Timestamp'];
    noTimestamp['Signature'] = rpcSignature('POST', noTimestamp, SECRET);
    expect(await raw(emu.port, noTimestamp)).toMatchObject({ status: 400, body: { Code: 'IllegalTimestamp' } });

    const unsigned = signedParams({ Action: 'ListKeys' });
    delete unsigned['Signature'];
    expect(await raw(emu.port, unsigned)).toMatchObject({ status: 400, body: { Code: 'IncompleteSignature' } });
  });

  it('refuses an unknown action and another API version', async () => {
    expect(await raw(emu.port, signedParams({ Action: 'MakeCoffee' }))).toMatchObject({
      status: 404,
      body: { Code: 'InvalidAction.NotFound' },
    });
    expect(await raw(emu.port, signedParams({ Action: 'ListKeys', Version: '2099-01-01' }))).toMatchObject({
      status: 400,
      body: { Code: 'InvalidVersion' },
    });
  });
});

describe('data keys', () => {
  const context = { logseal: '1', project: 'p1', logstore: 'app' };

  it('GenerateDataKey → Decrypt returns the same key, for AES and SM4 master keys', async () => {
    for (const spec of ['Aliyun_AES_256', 'Aliyun_SM4'] as const) {
      const keyId = await newKey(spec);
      const dk = await kms.generateDataKey(
        new $kms.GenerateDataKeyRequest({ keyId, numberOfBytes: 32, encryptionContext: JSON.stringify(context) as never }),
      );
      expect(dk.keyId).toBe(keyId);
      expect(Buffer.from(dk.plaintext, 'base64')).toHaveLength(32);
      expect(readBlobHeader(dk.ciphertextBlob)).toMatchObject({
        keyId,
        keyVersionId: dk.keyVersionId,
        algorithm: spec === 'Aliyun_SM4' ? 'SM4_CTR_HMAC_SHA256' : 'AES_256_GCM',
      });
      const back = await kms.decrypt(
        new $kms.DecryptRequest({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: JSON.stringify(context) as never }),
      );
      expect(back).toMatchObject({ plaintext: dk.plaintext, keyId, keyVersionId: dk.keyVersionId });
    }
  });

  it('accepts the context as a JSON string or as the map the SDK flattens, in any key order', async () => {
    const keyId = await newKey();
    const dk = await kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId, encryptionContext: context }));
    const reordered = JSON.stringify({ logstore: 'app', project: 'p1', logseal: '1' });
    const back = await kms.decrypt(
      new $kms.DecryptRequest({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: reordered as never }),
    );
    expect(back.plaintext).toBe(dk.plaintext);
  });

  it('refuses Decrypt under another EncryptionContext, or none', async () => {
    const keyId = await newKey();
    const dk = await kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId, encryptionContext: context }));
    for (const other of [{ ...context, logstore: 'other' }, { ...context, extra: 'x' }, {}]) {
      const f = await kmsFailure(
        kms.decrypt(new $kms.DecryptRequest({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: other })),
      );
      expect(f).toMatchObject({ code: 'InvalidParameter', status: 400 });
    }
  });

  it('sizes keys by KeySpec, lets NumberOfBytes win, and bounds NumberOfBytes to 1..1024', async () => {
    const keyId = await newKey();
    const size = async (r: { keySpec?: string; numberOfBytes?: number }) =>
      Buffer.from((await kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId, ...r }))).plaintext, 'base64').length;
    expect(await size({})).toBe(32);
    expect(await size({ keySpec: 'AES_128' })).toBe(16);
    expect(await size({ keySpec: 'AES_128', numberOfBytes: 24 })).toBe(24);
    expect(await size({ numberOfBytes: 1 })).toBe(1);
    expect(await size({ numberOfBytes: 1024 })).toBe(1024);
    for (const numberOfBytes of [0, 1025]) {
      const f = await kmsFailure(kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId, numberOfBytes })));
      expect(f).toMatchObject({ code: 'InvalidParameter', status: 400 });
    }
  });

  it('resolves a key by alias and by ARN', async () => {
    const keyId = await newKey();
    await kms.createAlias(new $kms.CreateAliasRequest({ keyId, aliasName: 'alias/logseal-test' }));
    const byAlias = await kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId: 'alias/logseal-test' }));
    expect(byAlias.keyId).toBe(keyId);
    const arn = (await kms.describeKey(new $kms.DescribeKeyRequest({ keyId }))).keyMetadata.arn;
    expect(arn).toBe(`acs:kms:cn-hangzhou:1234567890123456:key/${keyId}`);
    expect((await kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId: arn }))).keyId).toBe(keyId);
    const otherRegion = arn.replace('cn-hangzhou', 'cn-beijing');
    expect(await kmsFailure(kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId: otherRegion })))).toMatchObject({
      code: 'Forbidden.KeyNotFound',
      status: 404,
    });
  });

  it('refuses an unknown key with Forbidden.KeyNotFound', async () => {
    const f = await kmsFailure(kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId: randomUUID() })));
    expect(f).toMatchObject({ code: 'Forbidden.KeyNotFound', status: 404 });
  });

  it('Encrypt → Decrypt returns the text as given', async () => {
    const keyId = await newKey('Aliyun_SM4');
    const enc = await kms.encrypt(new $kms.EncryptRequest({ keyId, plaintext: 'hello, 世界', encryptionContext: context }));
    const dec = await kms.decrypt(new $kms.DecryptRequest({ ciphertextBlob: enc.ciphertextBlob, encryptionContext: context }));
    expect(dec.plaintext).toBe('hello, 世界');
  });

  it('refuses a blob with any single byte changed', async () => {
    for (const spec of ['Aliyun_AES_256', 'Aliyun_SM4'] as const) {
      const keyId = await newKey(spec);
      const dk = await kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId, encryptionContext: context }));
      const bytes = Buffer.from(dk.ciphertextBlob, 'base64');
      for (let i = 0; i < bytes.length; i++) {
        const tampered = Buffer.from(bytes);
        tampered[i] = tampered[i]! ^ 0x01;
        const f = await kmsFailure(
          kms.decrypt(new $kms.DecryptRequest({ ciphertextBlob: tampered.toString('base64'), encryptionContext: context })),
        );
        expect(['InvalidParameter', 'Forbidden.KeyNotFound'], `byte ${i} of ${spec}`).toContain(f.code);
      }
      const truncated = bytes.subarray(0, bytes.length - 1).toString('base64');
      expect((await kmsFailure(kms.decrypt(new $kms.DecryptRequest({ ciphertextBlob: truncated, encryptionContext: context })))).code).toBe(
        'InvalidParameter',
      );
    }
  });

  it('refuses a blob made by another KMS', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'logseal-kms-other-'));
    const other = await startKmsEmulator({ dataDir: otherDir, accessKeyId: AK, accessKeySecret: SECRET });
    try {
      const keyId = (await other.keyring.createKey()).keyId;
      const dk = await other.keyring.generateDataKey(keyId, 32, context);
      const f = await kmsFailure(kms.decrypt(new $kms.DecryptRequest({ ciphertextBlob: dk.blob, encryptionContext: context })));
      expect(f).toMatchObject({ code: 'Forbidden.KeyNotFound', status: 404 });
    } finally {
      await other.close();
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});

describe('key lifecycle', () => {
  it('a disabled key refuses GenerateDataKey and Decrypt with Rejected.Disabled; enabled again, it works', async () => {
    const keyId = await newKey();
    const dk = await kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId }));
    await kms.disableKey(new $kms.DisableKeyRequest({ keyId }));
    expect((await kms.describeKey(new $kms.DescribeKeyRequest({ keyId }))).keyMetadata.keyState).toBe('Disabled');
    expect(await kmsFailure(kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId })))).toMatchObject({
      code: 'Rejected.Disabled',
      status: 409,
    });
    expect(await kmsFailure(kms.decrypt(new $kms.DecryptRequest({ ciphertextBlob: dk.ciphertextBlob })))).toMatchObject({
      code: 'Rejected.Disabled',
      status: 409,
    });
    await kms.enableKey(new $kms.EnableKeyRequest({ keyId }));
    expect((await kms.decrypt(new $kms.DecryptRequest({ ciphertextBlob: dk.ciphertextBlob }))).plaintext).toBe(dk.plaintext);
  });

  it('a key pending deletion refuses use with Rejected.PendingDeletion; cancelled, it works', async () => {
    const keyId = await newKey();
    const dk = await kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId }));
    expect(await kmsFailure(kms.scheduleKeyDeletion(new $kms.ScheduleKeyDeletionRequest({ keyId, pendingWindowInDays: 3 })))).toMatchObject({
      code: 'InvalidParameter',
    });
    await kms.scheduleKeyDeletion(new $kms.ScheduleKeyDeletionRequest({ keyId, pendingWindowInDays: 7 }));
    const meta = (await kms.describeKey(new $kms.DescribeKeyRequest({ keyId }))).keyMetadata;
    expect(meta.keyState).toBe('PendingDeletion');
    const days = (Date.parse(meta.deleteDate) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    for (const call of [
      kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId })),
      kms.decrypt(new $kms.DecryptRequest({ ciphertextBlob: dk.ciphertextBlob })),
      kms.enableKey(new $kms.EnableKeyRequest({ keyId })),
    ]) {
      expect(await kmsFailure(call)).toMatchObject({ code: 'Rejected.PendingDeletion', status: 409 });
    }
    await kms.cancelKeyDeletion(new $kms.CancelKeyDeletionRequest({ keyId }));
    expect((await kms.describeKey(new $kms.DescribeKeyRequest({ keyId }))).keyMetadata.keyState).toBe('Enabled');
    expect((await kms.decrypt(new $kms.DecryptRequest({ ciphertextBlob: dk.ciphertextBlob }))).plaintext).toBe(dk.plaintext);
  });

  it('lists keys page by page', async () => {
    const total = (await kms.listKeys(new $kms.ListKeysRequest({ pageSize: 100 }))).totalCount;
    expect(total).toBeGreaterThan(3);
    const first = await kms.listKeys(new $kms.ListKeysRequest({ pageNumber: 1, pageSize: 2 }));
    const second = await kms.listKeys(new $kms.ListKeysRequest({ pageNumber: 2, pageSize: 2 }));
    expect(first.keys.key).toHaveLength(2);
    expect(second.keys.key).toHaveLength(2);
    expect(first.keys.key[0]!.keyId).not.toBe(second.keys.key[0]!.keyId);
    expect(first.keys.key[0]!.keyArn).toContain(first.keys.key[0]!.keyId);
  });

  it('keeps master keys in a 0600 file that holds no data key, and they survive a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'logseal-kms-restart-'));
    try {
      let e = await startKmsEmulator({ dataDir: dir, accessKeyId: AK, accessKeySecret: SECRET });
      const c = client(e.port);
      const keyId = (await c.createKey(new $kms.CreateKeyRequest({ keySpec: 'Aliyun_SM4' }))).keyMetadata.keyId;
      const disabledId = (await c.createKey(new $kms.CreateKeyRequest({}))).keyMetadata.keyId;
      await c.disableKey(new $kms.DisableKeyRequest({ keyId: disabledId }));
      const dk = await c.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId, encryptionContext: { a: 'b' } }));
      await e.close();

      const file = join(dir, 'kms', 'keys.json');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, 'utf8')).not.toContain(dk.plaintext);

      e = await startKmsEmulator({ dataDir: dir, accessKeyId: AK, accessKeySecret: SECRET });
      try {
        const c2 = client(e.port);
        const back = await c2.decrypt(new $kms.DecryptRequest({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: { a: 'b' } }));
        expect(back.plaintext).toBe(dk.plaintext);
        expect(e.keyring.keyState(disabledId)).toBe('Disabled');
        expect(e.keyring.describeKey(keyId).keySpec).toBe('Aliyun_SM4');
      } finally {
        await e.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('in-process keyring', () => {
  it('reports key states and throws coded errors, also through the at-rest adapter', async () => {
    const ring = emu.keyring;
    const { keyId } = await ring.createKey();
    const atRest = atRestKms(ring);
    const dk = await atRest.generateDataKey(keyId, 32, { logstore: 'x' });
    expect(await atRest.decrypt(dk.blob, { logstore: 'x' })).toEqual(dk.plaintext);
    expect(await atRest.keyState(keyId)).toBe('Enabled');
    await ring.setEnabled(keyId, false);
    expect(ring.keyState(keyId)).toBe('Disabled');
    await expect(atRest.decrypt(dk.blob, { logstore: 'x' })).rejects.toMatchObject({ code: 'Rejected.Disabled', status: 409 });
    await ring.scheduleDeletion(keyId, 7);
    expect(ring.keyState(keyId)).toBe('PendingDeletion');
    await expect(atRest.generateDataKey(keyId, 32, {})).rejects.toMatchObject({ code: 'Rejected.PendingDeletion', status: 409 });
    expect(ring.keyState(randomUUID())).toBe('NotFound');
    await expect(atRest.generateDataKey(randomUUID(), 32, {})).rejects.toMatchObject({ code: 'Forbidden.KeyNotFound', status: 404 });
  });
});

describe('fault injection', () => {
  it('answers with the injected error, only for the chosen actions, until cleared', async () => {
    const keyId = await newKey();
    emu.faults.set({ errorCode: 'ServiceUnavailableTemporary', errorStatus: 503, actions: ['GenerateDataKey'] });
    try {
      expect(await kmsFailure(kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId })))).toMatchObject({
        code: 'ServiceUnavailableTemporary',
        status: 503,
      });
      await kms.describeKey(new $kms.DescribeKeyRequest({ keyId }));
    } finally {
      emu.faults.clear();
    }
    await kms.generateDataKey(new $kms.GenerateDataKeyRequest({ keyId }));
    expect(emu.stats().rejected['ServiceUnavailableTemporary']).toBeGreaterThanOrEqual(1);
  });

  it('adds latency', async () => {
    emu.faults.set({ latencyMs: 150 });
    try {
      const started = performance.now();
      await kms.listKeys(new $kms.ListKeysRequest({}));
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      emu.faults.clear();
    }
  });

  it('can be set over HTTP with the emulator secret', async () => {
    const url = `${emu.url}/_emulator/faults`;
    const denied = await fetch(url, { method: 'PUT', body: '{"errorRate":1}', headers: { 'x-emulator-secret': 'wrong' } });
    expect(denied.status).toBe(403);
    const ok = await fetch(url, {
      method: 'PUT',
      body: JSON.stringify({ errorCode: 'InternalFailure', errorStatus: 500 }),
      headers: { 'x-emulator-secret': SECRET },
    });
    expect(ok.status).toBe(200);
    try {
      expect(await kmsFailure(kms.listKeys(new $kms.ListKeysRequest({})))).toMatchObject({ code: 'InternalFailure', status: 500 });
    } finally {
      await fetch(url, { method: 'PUT', body: '{}', headers: { 'x-emulator-secret': SECRET } });
    }
    await kms.listKeys(new $kms.ListKeysRequest({}));
  });
});
