// `logseal emulator` as a process (ready line, SIGTERM) and `logseal logstore` against it, encrypt_conf included.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, requireBuild, runCli } from '../helpers/e2e.js';

interface Ready {
  sls: string;
  kms: string;
  accessKeyId: string;
  accessKeySecret: string;
}

let dir: string;
let child: ReturnType<typeof spawn>;
let ready: Ready;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  requireBuild();
  dir = await mkdtemp(path.join(os.tmpdir(), 'logseal-cli-'));
  child = spawn(process.execPath, [cliPath, 'emulator', '--data', dir, '--access-key-id', 'LTAItestkey', '--access-key-secret', 'test-secret'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout! });
  ready = await new Promise<Ready>((resolve, reject) => {
    lines.once('line', (l) => resolve(JSON.parse(l) as Ready));
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  env = { ...process.env, ALIBABA_CLOUD_ACCESS_KEY_ID: ready.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: ready.accessKeySecret };
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

const at = () => ['--endpoint', ready.sls, '--project', 'cli-project'];

describe('logseal emulator', () => {
  it('prints exactly one JSON line with both endpoints and the given keys', () => {
    expect(Object.keys(ready).sort()).toEqual(['accessKeyId', 'accessKeySecret', 'kms', 'sls']);
    expect(ready.sls).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.kms).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.accessKeyId).toBe('LTAItestkey');
    expect(ready.accessKeySecret).toBe('test-secret');
  });

  it('refuses a bad port with one line and exit code 64', async () => {
    const res = await runCli(['emulator', '--sls-port', 'seventy']);
    expect(res.code).toBe(64);
    expect(res.stderr.trim()).toBe('logseal: --sls-port: expected a port number 0-65535, got "seventy"');
  });
});

describe('logseal logstore', () => {
  it('creates, reads, updates and deletes a Logstore with BYOK-free encrypt_conf', async () => {
    const created = await runCli(['logstore', 'create', 'audit', ...at(), '--ttl', '30', '--shards', '2', '--encrypt', '--encrypt-type', 'm4'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const spec = JSON.parse(created.stdout) as { logstoreName: string; ttl: number; shardCount: number; encrypt_conf: Record<string, unknown> };
    expect(spec).toMatchObject({ logstoreName: 'audit', ttl: 30, shardCount: 2, encrypt_conf: { enable: true, encrypt_type: 'm4' } });

    const updated = await runCli(['logstore', 'update', 'audit', ...at(), '--no-encrypt', '--ttl', '60'], env);
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ ttl: 60, encrypt_conf: { enable: false, encrypt_type: 'm4' } });

    // The algorithm of an encrypted Logstore never changes: the service refuses, the CLI says so in one line.
    const refused = await runCli(['logstore', 'update', 'audit', ...at(), '--encrypt-type', 'default'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^logseal: SLS \w+/);

    expect((await runCli(['logstore', 'delete', 'audit', ...at()], env)).code).toBe(0);
    const gone = await runCli(['logstore', 'get', 'audit', ...at()], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('LogStoreNotExist');
  });

  it('with a wrong secret the service answers SignatureNotMatch, and the secret is not printed', async () => {
    const res = await runCli(['logstore', 'get', 'whatever', ...at()], { ...env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('SignatureNotMatch');
    expect(res.stderr).not.toContain('not-the-secret');
  });

  it('BYOK needs the role and region with the CMK', async () => {
    const res = await runCli(['logstore', 'create', 'byok', ...at(), '--cmk', 'some-key'], env);
    expect(res.code).toBe(64);
    expect(res.stderr).toContain('--cmk needs --arn');
  });
});

describe('logseal emulator shutdown', () => {
  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
