// The dead-letter directory on real files: durable 0600 files that read back, a bound that refuses, damage detected.
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeadLetterDir, DeadLetterFormatError, decodeDeadLetterFile, type DeadLetterMeta } from '../../agent/dead-letter/index.js';

let dir: string;
beforeEach(async () => {
  dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'logseal-dl-')), 'dead-letter');
});
afterEach(async () => {
  await rm(path.dirname(dir), { recursive: true, force: true });
});

const meta = (over: Partial<DeadLetterMeta> = {}): DeadLetterMeta => ({
  project: 'p1', logstore: 'app', compressType: 'none', rawSize: 3000, logCount: 7, refusedAt: 1_764_000_000_000,
  code: 'PostBodyTooLarge', status: 400, message: 'PutLogs app: PostBodyTooLarge (HTTP 400): too large', requestId: 'r-1', ...over,
});
const body = (n: number, fill = 0xab) => Buffer.alloc(n, fill);

describe('DeadLetterDir', () => {
  it('writes each batch as its own 0600 file in a 0700 directory, which reads back to the same description and body', async () => {
    const dl = await DeadLetterDir.open({ dir, maxBytes: 1 << 20 });
    const first = await dl.put(meta(), body(3000));
    const second = await dl.put(meta({ refusedAt: 1_764_000_000_001, logstore: 'other' }), body(10, 1));
    expect(first.stored && second.stored).toBe(true);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const names = (await readdir(dir)).sort();
    expect(names).toHaveLength(2);
    for (const name of names) expect((await stat(path.join(dir, name))).mode & 0o777).toBe(0o600);
    const back = decodeDeadLetterFile(await readFile(path.join(dir, names[0]!)), names[0]!);
    expect(back.meta).toEqual(meta());
    expect(back.body.equals(body(3000))).toBe(true);
    expect(decodeDeadLetterFile(await readFile(path.join(dir, names[1]!)), names[1]!).meta.logstore).toBe('other');
    expect(await dl.usedBytes()).toBe(first.bytes + second.bytes);
  });

  it('refuses a batch that would go past maxBytes, and has room again once an operator removes files', async () => {
    const dl = await DeadLetterDir.open({ dir, maxBytes: 5000 });
    const kept = await dl.put(meta(), body(3000));
    expect(kept.stored).toBe(true);
    const refused = await dl.put(meta({ refusedAt: 1_764_000_000_002 }), body(3000));
    expect(refused).toMatchObject({ stored: false, usedBytes: kept.bytes });
    expect(await readdir(dir)).toHaveLength(1);
    await unlink(kept.stored ? kept.file : '');
    expect((await dl.put(meta({ refusedAt: 1_764_000_000_003 }), body(3000))).stored).toBe(true);
  });

  it('keeps nothing with maxBytes 0', async () => {
    const dl = await DeadLetterDir.open({ dir, maxBytes: 0 });
    expect((await dl.put(meta(), body(1))).stored).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('detects a damaged file', async () => {
    const dl = await DeadLetterDir.open({ dir, maxBytes: 1 << 20 });
    const out = await dl.put(meta(), body(100));
    if (!out.stored) throw new Error('not stored');
    const bytes = await readFile(out.file);
    bytes[bytes.length - 1]! ^= 1;
    await writeFile(out.file, bytes);
    expect(() => decodeDeadLetterFile(bytes, 'f.dead')).toThrow(DeadLetterFormatError);
    expect(() => decodeDeadLetterFile(bytes, 'f.dead')).toThrow('f.dead: checksum mismatch');
    expect(() => decodeDeadLetterFile(Buffer.from('LSSP-not-this'), 'g.dead')).toThrow('g.dead: not a dead-letter file');
  });
});
