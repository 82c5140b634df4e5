// Which compression a PutLogs body gets: none where the sealed data is incompressible, unless configured.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/index.js';
import { bodyCompression } from '../../agent/pipeline/agent.js';

function config(extra: string) {
  return parseConfig(
    `sls: { endpoint: http://127.0.0.1:1, project: demo, logstore: app, accessKeyId: a, accessKeySecret: b${extra.includes('compress') ? `, ${extra}` : ''} }
kms: { endpoint: http://127.0.0.1:2, regionId: cn-hangzhou, cmk: k }
seal: { mode: ${extra.includes('mode: log') ? 'log' : 'group'}, zip: ${extra.includes('zip: none') ? 'none' : 'lz4'} }
inputs: [{ paths: [/tmp/x.log] }]
`,
    'test.yaml',
  );
}

describe('bodyCompression', () => {
  it('auto sends sealed LZ4 groups and mode log records as they are, and compresses groups sealed without zip', () => {
    expect(bodyCompression(config(''))).toBe('none');
    expect(bodyCompression(config('mode: log'))).toBe('none');
    expect(bodyCompression(config('zip: none'))).toBe('lz4');
  });

  it('an explicit setting wins', () => {
    expect(bodyCompression(config('compress: lz4'))).toBe('lz4');
    expect(bodyCompression(config('compress: deflate'))).toBe('deflate');
    expect(bodyCompression(config('compress: zstd'))).toBe('zstd');
  });
});
