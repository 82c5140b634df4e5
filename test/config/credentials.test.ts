// Credentials from the config file or the default Alibaba Cloud chain.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsError, parseConfig, resolveCredentials } from '../../agent/config/index.js';

const BASE = `
sls: { endpoint: cn-hangzhou.log.aliyuncs.com, project: demo, logstore: app, SLS_CREDS }
kms: { endpoint: kms.cn-hangzhou.aliyuncs.com, cmk: k, KMS_CREDS }
inputs: [ { paths: [/x] } ]
`;
function config(sls: string, kms: string) {
  return parseConfig(BASE.replace(', SLS_CREDS', sls).replace(', KMS_CREDS', kms), 'config.yaml', {});
}

// The chain reads these; each test sets what it needs and the originals come back afterwards.
const CHAIN_VARS = [
  'ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN', 'ALIBABA_CLOUD_ECS_METADATA_DISABLED',
  'ALIBABA_CLOUD_CLI_PROFILE_DISABLED', 'ALIBABA_CLOUD_CREDENTIALS_FILE', 'ALIBABA_CLOUD_PROFILE', 'ALIBABA_CLOUD_ROLE_ARN',
  'ALIBABA_CLOUD_OIDC_PROVIDER_ARN', 'ALIBABA_CLOUD_OIDC_TOKEN_FILE', 'ALIBABA_CLOUD_CREDENTIALS_URI', 'ALIBABA_CLOUD_ECS_METADATA', 'HOME',
];
const saved = new Map(CHAIN_VARS.map((k) => [k, process.env[k]]));
let home: string;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'logseal-creds-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});
afterEach(() => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** A chain with nothing to find and no network to try: no env keys, no profile, no instance metadata. */
function isolateChain(): void {
  for (const k of CHAIN_VARS) delete process.env[k];
  process.env.HOME = home;
  process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';
  process.env.ALIBABA_CLOUD_CLI_PROFILE_DISABLED = 'true';
  process.env.ALIBABA_CLOUD_CREDENTIALS_FILE = path.join(home, 'no-such-file');
}

describe('resolveCredentials', () => {
  it('uses the values in the file', async () => {
    const c = config(', accessKeyId: id1, accessKeySecret: sec1, securityToken: tok1', '');
    expect(await resolveCredentials(c)()).toEqual({ accessKeyId: 'id1', accessKeySecret: 'sec1', securityToken: 'tok1' });
  });

  it('gives KMS its own credentials when configured, else the SLS ones', async () => {
    const shared = config(', accessKeyId: id1, accessKeySecret: sec1', '');
    expect(await resolveCredentials(shared, 'kms')()).toEqual({ accessKeyId: 'id1', accessKeySecret: 'sec1' });
    const separate = config(', accessKeyId: id1, accessKeySecret: sec1', ', accessKeyId: id2, accessKeySecret: sec2');
    expect(await resolveCredentials(separate, 'kms')()).toEqual({ accessKeyId: 'id2', accessKeySecret: 'sec2' });
    expect(await resolveCredentials(separate, 'sls')()).toEqual({ accessKeyId: 'id1', accessKeySecret: 'sec1' });
  });

  it('falls back to the default chain (environment variables) when the file has none', async () => {
    isolateChain();
    const source = resolveCredentials(config('', ''));
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'env-id';
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'env-secret';
    process.env.ALIBABA_CLOUD_SECURITY_TOKEN = 'env-token';
    expect(await source()).toEqual({ accessKeyId: 'env-id', accessKeySecret: 'env-secret', securityToken: 'env-token' });
  });

  it('reads the environment at every call, as the chain does', async () => {
    isolateChain();
    const source = resolveCredentials(config('', ''));
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'first-id';
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'first-secret';
    expect(await source()).toEqual({ accessKeyId: 'first-id', accessKeySecret: 'first-secret' });
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'second-id';
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'second-secret';
    process.env.ALIBABA_CLOUD_SECURITY_TOKEN = 'second-token';
    expect(await source()).toEqual({ accessKeyId: 'second-id', accessKeySecret: 'second-secret', securityToken: 'second-token' });
  });

  it('goes past the environment to the rest of the chain: a credentials file', async () => {
    isolateChain();
    const file = path.join(home, 'credentials.ini');
    await writeFile(file, '[default]\ntype = access_key\naccess_key_id = file-id\naccess_key_secret = file-secret\n');
    process.env.ALIBABA_CLOUD_CREDENTIALS_FILE = file;
    expect(await resolveCredentials(config('', ''))()).toMatchObject({ accessKeyId: 'file-id', accessKeySecret: 'file-secret' });
  });

  it('fails with a one-line CredentialsError when the chain finds nothing', async () => {
    isolateChain();
    const source = resolveCredentials(config('', ''));
    const err = await source().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as Error).message).toMatch(/^no Alibaba Cloud credentials for sls: /);
    expect((err as Error).message).not.toMatch(/[\r\n]/);
  });
});
