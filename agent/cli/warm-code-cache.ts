// Build step (`npm run bundle`): runs the bundled CLI through commands that initialise what starting `run` and
// `validate` executes, each start reading the cache the previous one wrote, so that the code cache left beside the
// bundle holds that code compiled. Nothing is contacted: the config names loopback endpoints it never reaches.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeCacheFile, compileBundle, WRITE_CODE_CACHE_ENV } from './code-cache.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, 'main.js');
const bundle = path.join(here, 'logseal.cjs');

const CONFIG = `sls: { endpoint: "http://127.0.0.1:9", project: warm, logstore: warm, accessKeyId: id, accessKeySecret: secret }
kms: { endpoint: "http://127.0.0.1:9", regionId: cn-hangzhou, cmk: alias/warm }
inputs: [{ paths: ["/nonexistent/*.log"], parser: { type: json } }]
`;

function main(): void {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: bundle the CLI first`);
  rmSync(codeCacheFile(bundle), { force: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'logseal-warm-'));
  try {
    const config = path.join(work, 'logseal.yaml');
    writeFileSync(config, CONFIG);
    // `run` with a config file that is not there imports every module the daemon uses, then stops at its first step.
    const steps: Array<{ args: string[]; exit: number }> = [
      { args: ['--version'], exit: 0 },
      { args: ['validate', '-c', config], exit: 0 },
      { args: ['run', '-c', path.join(work, 'missing.yaml')], exit: 78 },
    ];
    for (const { args, exit } of steps) {
      const r = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, [WRITE_CODE_CACHE_ENV]: '1' }, encoding: 'utf8' });
      if (r.status !== exit) throw new Error(`logseal ${args.join(' ')} exited ${r.status}, expected ${exit}: ${(r.stderr || r.stdout).trim()}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!compileBundle(bundle)?.usedCache) throw new Error(`${codeCacheFile(bundle)}: V8 did not accept the cache it wrote`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`warm-code-cache: ${(err as Error).message}\n`);
  process.exit(1);
}
