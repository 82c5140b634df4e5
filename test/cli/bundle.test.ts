// The shipped build is one bundled file per thread entry (`npm run build`): the CLI bundle finds the seal worker's bundle,
// and that worker seals a batch on a real thread; the CLI's bundle starts from the code cache built with it.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeCacheFile, compileBundle } from '../../agent/cli/code-cache.js';
import { cliPath, repoRoot, requireBuild } from '../helpers/e2e.js';

const bundlePath = path.join(repoRoot, 'dist/agent/cli/logseal.cjs');

describe('the bundled build', () => {
  it('runs the CLI from one file that resolves the seal worker beside the compiled stages', () => {
    requireBuild();
    expect(readFileSync(cliPath, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    const cli = readFileSync(bundlePath, 'utf8');
    // A CommonJS script in strict mode, as the ES modules it was bundled from are.
    expect(cli).toMatch(/^'use strict';/);
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

  it('starts from a code cache that V8 accepts, and never from one made of other bytes', () => {
    requireBuild();
    expect(compileBundle(bundlePath)?.usedCache).toBe(true);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'logseal-code-cache-'));
    try {
      // The same length with one byte changed: V8 alone would take this cache (it checks the source's length only).
      const bytes = readFileSync(bundlePath);
      const at = bytes.lastIndexOf('logseal');
      bytes[at] = 'L'.charCodeAt(0);
      const other = path.join(dir, 'logseal.cjs');
      writeFileSync(other, bytes);
      copyFileSync(codeCacheFile(bundlePath), codeCacheFile(other));
      expect(compileBundle(other)?.usedCache).toBe(false);
      // A damaged cache with the right digest is V8's to refuse; the bundle still compiles from source.
      const cache = readFileSync(codeCacheFile(bundlePath));
      writeFileSync(codeCacheFile(bundlePath + '.copy'), cache.subarray(0, 32 + 100));
      copyFileSync(bundlePath, bundlePath + '.copy');
      try {
        expect(compileBundle(bundlePath + '.copy')?.usedCache).toBe(false);
      } finally {
        rmSync(bundlePath + '.copy', { force: true });
        rmSync(codeCacheFile(bundlePath + '.copy'), { force: true });
      }
      expect(compileBundle(path.join(dir, 'missing.cjs'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the same CLI without its code cache', () => {
    requireBuild();
    // A copy of the executable and the bundle one level below dist/agent, as dist/agent/cli is, with no cache beside it.
    const dir = mkdtempSync(path.join(repoRoot, 'dist/agent/no-cache-'));
    try {
      for (const file of ['main.js', 'code-cache.js', 'logseal.cjs']) copyFileSync(path.join(repoRoot, 'dist/agent/cli', file), path.join(dir, file));
      const run = (args: string[]) => {
        try {
          return { code: 0, out: execFileSync(process.execPath, [path.join(dir, 'main.js'), ...args], { encoding: 'utf8', stdio: 'pipe' }) };
        } catch (err) {
          const e = err as { status: number; stderr: string };
          return { code: e.status, out: e.stderr };
        }
      };
      expect(run(['--version']).out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      expect(run(['validate', '-c', path.join(dir, 'missing.yaml')])).toEqual({ code: 78, out: `logseal: ${path.join(dir, 'missing.yaml')}: file not found\n` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
