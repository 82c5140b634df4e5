// What every benchmark prints about where it ran: the machine, the revision measured, the repository root; size flags.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i.exec(s.trim());
  if (!m) throw new Error(`--size: expected e.g. 1GB or 200MB, got "${s}"`);
  const unit = (m[2] ?? 'B').toLowerCase();
  const scale: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
  return Math.round(Number(m[1]) * scale[unit]!);
}

export function repoRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'agent'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('cannot find the repository root (package.json next to agent/)');
  }
}

/** The commit measured, and whether the working tree differed from it. */
export function revision(root: string): string {
  try {
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'agent', 'emulators'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes in agent/ or emulators/` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export function machine(): string {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return (
    `${os.availableParallelism()} CPUs (${model}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
    `Linux ${os.release()}, Node ${process.version}, OpenSSL ${process.versions.openssl}`
  );
}

