// The shipped build is one bundled file per thread entry (`npm run build`): the CLI bundle finds the seal worker's bundle,
// and that worker seals a batch on a real thread.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, repoRoot, requireBuild } from '../helpers/e2e.js';

describe('the bundled build', () => {
  it('runs the CLI from one file that resolves the seal worker beside the compiled stages', () => {
    requireBuild();
    const cli = readFileSync(cliPath, 'utf8');
    expect(cli).toMatch(/^#!\/usr\/bin\/env node\n/);
    // The pool resolves its worker as ../seal/seal-worker.js from its own module: the bundle sits one level below
    // dist/agent too (cli/), so the same relative path names the worker's bundle.
    expect(cli).toContain('../seal/seal-worker.js');
    expect(cli).toContain('../decrypt/decrypt-worker.js');
    expect(execFileSync(process.execPath, [cliPath, '--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('seals a batch with the bundled worker on a worker thread', () => {
    requireBuild();
    const worker = path.join(repoRoot, 'dist/agent/seal/seal-worker.js');
    const script = `
      import { Piscina } from 'piscina';
      import { randomBytes } from 'node:crypto';
      const pool = new Piscina({ filename: ${JSON.stringify(worker)}, minThreads: 1, maxThreads: 1, workerData: { backend: 'auto' } });
      // A one-log LogGroup as encodeLogGroup writes it: Logs { Time: 1, Contents { Key: "content", Value: "hello" } }.
      const content = Buffer.concat([Buffer.from([0x0a, 7]), Buffer.from('content'), Buffer.from([0x12, 5]), Buffer.from('hello')]);
      const log = Buffer.concat([Buffer.from([0x08, 1, 0x12, content.length]), content]);
      const group = Buffer.concat([Buffer.from([0x0a, log.length]), log]);
      const encoded = new Uint8Array(new ArrayBuffer(group.length)); encoded.set(group);
      const key = { algorithm: 'AES_256_GCM', plaintext: randomBytes(32), cmkId: 'c', blob: 'b' };
      const r = await pool.run({ encoded, key, target: { project: 'demo', logstore: 'app', mode: 'group', zip: 'lz4' }, compressType: 'none' });
      console.log(JSON.stringify({ records: r.records, plainBytes: r.plainBytes, body: r.payload.body.length, sealMs: typeof r.sealMs }));
      await pool.close();
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' })) as Record<string, unknown>;
    expect(out).toMatchObject({ records: 1, plainBytes: expect.any(Number), sealMs: 'number' });
    expect(out['body']).toBeGreaterThan(16);
  });
});
