// The shipped config files (demo default and production example) stay valid.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../agent/config/index.js';

const LOCAL = new URL('../../config/local.yaml', import.meta.url).pathname;
const EXAMPLE = new URL('../../config/example.yaml', import.meta.url).pathname;

describe('config/local.yaml (the demo default)', () => {
  const env = {
    LOGSEAL_SLS_ENDPOINT: 'http://127.0.0.1:41000', LOGSEAL_KMS_ENDPOINT: 'http://127.0.0.1:41001',
    LOGSEAL_ACCESS_KEY_ID: 'demo-id', LOGSEAL_ACCESS_KEY_SECRET: 'demo-secret', LOGSEAL_CMK: 'key-demo',
  };

  it('loads with the variables the demo sets', async () => {
    const c = await loadConfig(LOCAL, env);
    expect(c.sls).toMatchObject({ endpoint: 'http://127.0.0.1:41000', project: 'demo', logstore: 'app', accessKeyId: 'demo-id' });
    expect(c.kms).toMatchObject({ endpoint: 'http://127.0.0.1:41001', cmk: 'key-demo' });
    expect(c.inputs[0]!.paths).toEqual(['./.logseal/sample-logs/*.log']);
    expect(c.stateDir).toBe('./.logseal/state');
    expect(c.metrics.listen).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('names the first missing variable', async () => {
    await expect(loadConfig(LOCAL, {})).rejects.toThrow(ConfigError);
    await expect(loadConfig(LOCAL, {})).rejects.toThrow(/sls\.endpoint: environment variable LOGSEAL_SLS_ENDPOINT is not set/);
  });
});

describe('config/example.yaml', () => {
  it('is valid without any environment and uses the credential chain', async () => {
    const c = await loadConfig(EXAMPLE, {});
    expect(c.sls.accessKeyId).toBeUndefined();
    expect(c.kms.regionId).toBe('cn-hangzhou');
    expect(c.inputs).toHaveLength(3);
    expect(c.inputs[2]).toMatchObject({ logstore: 'billing-logs', cmk: 'alias/billing' });
    expect(c.inputs[1]!.parser).toMatchObject({ type: 'regex' });
  });

  it('has a comment on its first line', async () => {
    expect((await readFile(EXAMPLE, 'utf8')).startsWith('# ')).toBe(true);
  });
});
