// Which output each input's logs go to: inputs[].logstore / inputs[].cmk, their defaults and their validation.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../agent/config/index.js';
import { logstoresOf, planOutputs } from '../../agent/pipeline/outputs.js';

const config = (inputs: string, extra = '') =>
  parseConfig(
    `
sls: { endpoint: cn-hangzhou.log.aliyuncs.com, project: demo, logstore: app }
kms: { endpoint: kms.cn-hangzhou.aliyuncs.com, cmk: key-main }
inputs:
${inputs}
${extra}`,
    'config.yaml',
    {},
  );

describe('planOutputs', () => {
  it('sends inputs that name nothing to sls.logstore under kms.cmk', () => {
    const plan = planOutputs(config('  - paths: [/a/*.log]\n  - paths: [/b/*.log]'));
    expect(plan).toEqual({ targets: [{ logstore: 'app', cmk: 'key-main' }], outputOfInput: [0, 0] });
  });

  it('gives each distinct (logstore, cmk) its own output, shared by the inputs that name it', () => {
    const plan = planOutputs(
      config(
        [
          '  - { paths: [/a/*.log], logstore: billing, cmk: key-billing }',
          '  - { paths: [/b/*.log] }',
          '  - { paths: [/c/*.log], logstore: billing, cmk: key-billing }',
          '  - { paths: [/d/*.log], logstore: billing }',
          '  - { paths: [/e/*.log], cmk: key-other }',
        ].join('\n'),
      ),
    );
    expect(plan.targets).toEqual([
      { logstore: 'billing', cmk: 'key-billing' },
      { logstore: 'app', cmk: 'key-main' },
      { logstore: 'billing', cmk: 'key-main' },
      { logstore: 'app', cmk: 'key-other' },
    ]);
    expect(plan.outputOfInput).toEqual([0, 1, 0, 2, 3]);
    expect(logstoresOf(plan.targets)).toEqual(['billing', 'app']);
  });

  it('checks an input logstore like sls.logstore, in one line naming the key', () => {
    expect(() => config('  - { paths: [/a/*.log], logstore: Bad_Name }')).toThrow(ConfigError);
    expect(() => config('  - { paths: [/a/*.log], logstore: Bad_Name }')).toThrow(
      /^config\.yaml: inputs\[0\]\.logstore: expected a logstore name: 3-63 lowercase letters/,
    );
    expect(() => config('  - { paths: [/a/*.log], cmk: "" }')).toThrow(/inputs\[0\]\.cmk: must not be empty/);
  });

  it('puts the dead-letter directory in the state directory unless told, with a bound', () => {
    const c = config('  - paths: [/a/*.log]');
    expect(c.deadLetter).toEqual({ maxBytes: 256 * 2 ** 20 });
    expect(config('  - paths: [/a/*.log]', 'deadLetter: { dir: /tmp/dl, maxBytes: 0 }').deadLetter).toEqual({ dir: '/tmp/dl', maxBytes: 0 });
  });
});
