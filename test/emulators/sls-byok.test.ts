// BYOK at rest: the emulator takes its data key from the user's CMK, and every read and write fails while that CMK is unusable.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogGroup } from '../../agent/wire/loggroup.js';
import { EmulatorCallError, putLogGroup, readShard, signedRequest, type SlsTarget } from '../../emulators/sls/client.js';
import { startSlsEmulator, type AtRestKms, type SlsEmulator } from '../../emulators/sls/index.js';

const ID = 'byok-id';
const SECRET = 'byok-secret';
const PROJECT = 'proj-byok';
const ARN = 'acs:ram::1234567890123456:role/aliyunlogdefaultrole';

type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'NotFound';

/** A KMS stand-in whose key states the test flips; it records the calls the emulator makes. */
class FakeKms implements AtRestKms {
  readonly states = new Map<string, KeyState>();
  private readonly keys = new Map<string, { plaintext: Buffer; context: string }>();
  readonly calls: string[] = [];

  private refuse(cmkId: string): void {
    const state = this.states.get(cmkId) ?? 'NotFound';
    const code = { Disabled: 'Rejected.Disabled', PendingDeletion: 'Rejected.PendingDeletion', NotFound: 'Forbidden.KeyNotFound' }[
      state as Exclude<KeyState, 'Enabled'>
    ];
    if (code) throw Object.assign(new Error(`key ${cmkId} is ${state}`), { code });
  }

  async generateDataKey(cmkId: string, numberOfBytes: number, context: Record<string, string>) {
    this.calls.push(`generateDataKey:${cmkId}:${numberOfBytes}`);
    this.refuse(cmkId);
    const plaintext = randomBytes(numberOfBytes);
    const blob = `${cmkId}/${randomBytes(8).toString('hex')}`;
    this.keys.set(blob, { plaintext, context: JSON.stringify(context) });
    return { plaintext: Buffer.from(plaintext), blob };
  }

  async decrypt(blob: string, context: Record<string, string>) {
    this.calls.push('decrypt');
    const k = this.keys.get(blob);
    if (!k || k.context !== JSON.stringify(context)) throw Object.assign(new Error('bad blob'), { code: 'InvalidCiphertext' });
    this.refuse(blob.split('/')[0]!);
    return Buffer.from(k.plaintext);
  }

  async keyState(cmkId: string) {
    this.calls.push('keyState');
    return this.states.get(cmkId) ?? 'NotFound';
  }
}

const kms = new FakeKms();
const agent = new Agent({ keepAlive: true });
let dir: string;
let emu: SlsEmulator;
let target: SlsTarget;

function start(): Promise<SlsEmulator> {
  return startSlsEmulator({ dataDir: dir, accessKeyId: ID, accessKeySecret: SECRET, atRestKms: kms });
}

function createByok(name: string, cmk: string, type = 'default') {
  return signedRequest({
    ...target,
    method: 'POST',
    path: '/logstores',
    body: Buffer.from(
      JSON.stringify({
        logstoreName: name,
        ttl: 1,
        shardCount: 1,
        encrypt_conf: { enable: true, encrypt_type: type, user_cmk_info: { cmk_key_id: cmk, arn: ARN, region_id: 'cn-hangzhou' } },
      }),
    ),
    headers: { 'content-type': 'application/json' },
  });
}

function group(n: number): LogGroup {
  return { logTags: [], logs: [{ time: 1_700_000_000, contents: [{ key: 'n', value: `byok-${n}` }] }] };
}

async function failure(p: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EmulatorCallError) return { status: e.status, code: e.code };
    throw e;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sls-byok-'));
  emu = await start();
  target = { url: emu.url, project: PROJECT, accessKeyId: ID, accessKeySecret: SECRET, agent };
});

afterAll(async () => {
  agent.destroy();
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

describe('BYOK', () => {
  it('asks KMS for a data key of the algorithm size and stores only its blob', async () => {
    kms.states.set('cmk-aes', 'Enabled');
    kms.states.set('cmk-sm4', 'Enabled');
    expect((await createByok('byok-aes', 'cmk-aes')).status).toBe(200);
    expect((await createByok('byok-sm4', 'cmk-sm4', 'm4')).status).toBe(200);
    expect(kms.calls).toContain('generateDataKey:cmk-aes:32');
    expect(kms.calls).toContain('generateDataKey:cmk-sm4:16');
    const meta = JSON.parse(await readFile(join(dir, 'projects', PROJECT, 'byok-aes', 'meta.json'), 'utf8'));
    expect(meta.atRestKey).toEqual({ kind: 'byok', cmkId: 'cmk-aes', blob: expect.stringMatching(/^cmk-aes\//) });
  });

  it('fails every PutLogs and PullLogs with 403 KMSKeyDisabled while the CMK is unusable, and recovers once enabled', async () => {
    kms.states.set('cmk-flip', 'Enabled');
    expect((await createByok('byok-flip', 'cmk-flip')).status).toBe(200);
    await putLogGroup(target, 'byok-flip', group(1));

    for (const state of ['Disabled', 'PendingDeletion', 'NotFound'] as const) {
      kms.states.set('cmk-flip', state);
      expect(await failure(putLogGroup(target, 'byok-flip', group(99)))).toEqual({ status: 403, code: 'KMSKeyDisabled' });
      expect(await failure(readShard(target, 'byok-flip', 0))).toEqual({ status: 403, code: 'KMSKeyDisabled' });
    }

    kms.states.set('cmk-flip', 'Enabled');
    await putLogGroup(target, 'byok-flip', group(2));
    expect(await readShard(target, 'byok-flip', 0)).toEqual([group(1), group(2)]);
  });

  it('refuses to create a logstore on a disabled or unknown CMK', async () => {
    kms.states.set('cmk-off', 'Disabled');
    const disabled = await createByok('byok-off', 'cmk-off');
    expect([disabled.status, JSON.parse(disabled.body.toString()).errorCode]).toEqual([403, 'KMSKeyDisabled']);
    const unknown = await createByok('byok-unknown', 'cmk-nobody');
    expect([unknown.status, JSON.parse(unknown.body.toString()).errorCode]).toEqual([400, 'ParameterInvalid']);
    const get = await signedRequest({ ...target, method: 'GET', path: '/logstores/byok-off' });
    expect(get.status).toBe(404);
  });

  it('recovers the data key through KMS Decrypt after a restart', async () => {
    kms.states.set('cmk-restart', 'Enabled');
    expect((await createByok('byok-restart', 'cmk-restart', 'm4')).status).toBe(200);
    await putLogGroup(target, 'byok-restart', group(7));
    await emu.close();
    const decryptsBefore = kms.calls.filter((c) => c === 'decrypt').length;
    emu = await start();
    target = { ...target, url: emu.url };

    kms.states.set('cmk-restart', 'Disabled');
    expect(await failure(readShard(target, 'byok-restart', 0))).toEqual({ status: 403, code: 'KMSKeyDisabled' });
    kms.states.set('cmk-restart', 'Enabled');
    expect(await readShard(target, 'byok-restart', 0)).toEqual([group(7)]);
    expect(kms.calls.filter((c) => c === 'decrypt').length).toBe(decryptsBefore + 1);
  });
});
