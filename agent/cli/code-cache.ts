// Runs the one-file bundle of the CLI (`npm run bundle`) from the V8 code cache made with it at build time: a start
// then deserialises the compiled functions instead of parsing 1.6 MB of JavaScript and compiling what starting runs.
// The cache is V8's own (vm.Script `cachedData`); Node 20 has no compile cache for ES modules, hence a CommonJS bundle.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** Set to 1 by the build (warm-code-cache.ts): at exit, the process writes the cache of what it compiled so far. */
export const WRITE_CODE_CACHE_ENV = 'LOGSEAL_WRITE_CODE_CACHE';

const DIGEST_BYTES = 32;

export const codeCacheFile = (bundleFile: string): string => `${bundleFile}.code-cache`;

/**
 * Runs `bundleFile` as Node runs a CommonJS module; false if there is no such file. The cache is used only when it was
 * made from these very bytes: it starts with their SHA-256, because V8 itself checks only the length of the source
 * (besides its own version and flags, for which it rejects a cache by itself and compiles from source).
 */
export function runBundle(bundleFile: string): boolean {
  const compiled = compileBundle(bundleFile);
  if (!compiled) return false;
  const { script, digest } = compiled;
  if (process.env[WRITE_CODE_CACHE_ENV] === '1') process.once('exit', () => writeCache(codeCacheFile(bundleFile), digest, script));
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(bundleFile), module, bundleFile, path.dirname(bundleFile));
  return true;
}

/** The bundle compiled with its cache where one fits (`usedCache`), or undefined if there is no bundle. */
export function compileBundle(bundleFile: string): { script: vm.Script; digest: Buffer; usedCache: boolean } | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(bundleFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const digest = createHash('sha256').update(bytes).digest();
  const cachedData = readCache(codeCacheFile(bundleFile), digest);
  let source = bytes.toString('utf8');
  if (source.startsWith('#!')) source = `//${source.slice(2)}`; // the shebang line, as a comment inside the wrapper
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundleFile,
    cachedData,
  });
  return { script, digest, usedCache: cachedData !== undefined && !script.cachedDataRejected };
}

function readCache(file: string, digest: Buffer): Buffer | undefined {
  try {
    const cache = readFileSync(file);
    return cache.length > DIGEST_BYTES && cache.subarray(0, DIGEST_BYTES).equals(digest) ? cache.subarray(DIGEST_BYTES) : undefined;
  } catch {
    return undefined; // no cache (or unreadable): compile from source, as Node would
  }
}

function writeCache(file: string, digest: Buffer, script: vm.Script): void {
  const staging = `${file}.${process.pid}`;
  writeFileSync(staging, Buffer.concat([digest, script.createCachedData()]));
  renameSync(staging, file);
}
