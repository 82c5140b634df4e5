// `logseal decrypt --dead-letter DIR` on bad input: one line on stderr and the README's exit codes, before any KMS call.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuild, runCli } from '../helpers/e2e.js';

let dir: string;
let config: string;
let deadDir: string;

beforeAll(async () => {
  requireBuild();
  dir = await mkdtemp(path.join(os.tmpdir(), 'logseal-dl-cli-'));
  config = path.join(dir, 'logseal.yaml');
  // Nothing listens at these endpoints: the failures below must come before any request.
  await writeFile(
    config,
    'sls: { endpoint: "http://127.0.0.1:9", project: demo, logstore: app, accessKeyId: id, accessKeySecret: secret }\n' +
      'kms: { endpoint: "http://127.0.0.1:9", regionId: cn-hangzhou, cmk: key-1 }\n' +
      'inputs: [{ paths: [/tmp/none/*.log] }]\n',
  );
  deadDir = path.join(dir, 'dead-letter');
  await mkdir(deadDir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('logseal decrypt --dead-letter', () => {
  it('prints nothing and exits 0 for an empty directory', async () => {
    expect(await runCli(['decrypt', '-c', config, '--dead-letter', deadDir])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('names a file that is not an intact dead-letter file, exit 1', async () => {
    const bad = path.join(deadDir, '000000000000001-1-000001.dead');
    await writeFile(bad, 'not a dead-letter file at all');
    const res = await runCli(['decrypt', '-c', config, '--dead-letter', deadDir]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`logseal: decrypt: ${bad}: not a dead-letter file (bad magic)\n`);
    await rm(bad);
  });

  it('refuses flags that only make sense for a Logstore, exit 64', async () => {
    const res = await runCli(['decrypt', '-c', config, '--dead-letter', deadDir, '--shard', '0']);
    expect(res.code).toBe(64);
    expect(res.stderr).toBe('logseal: --shard: not with --dead-letter (the files name their Logstore, not a shard)\n');
  });
});
