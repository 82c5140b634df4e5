// Checkpoint file: atomic replace, previous version, corrupt-file handling; saved in one job of the addon and through
// node:fs/promises alike.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckpointError, CheckpointStore as BaseStore, type CheckpointStoreOptions, type FileCheckpoint } from '../../agent/checkpoint/index.js';
import { nativeAddon } from '../../agent/native/addon.js';

function cp(fileId: string, offset: number): FileCheckpoint {
  return { fileId, path: `/var/log/${fileId}.log`, dev: 2049, ino: 1000 + offset, fingerprint: 'ab'.repeat(32), fingerprintBytes: 1024, offset };
}

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'logseal-checkpoint-'));
  file = path.join(dir, 'state', 'checkpoints.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const replaceFileDurably = nativeAddon?.replaceFileDurably?.bind(nativeAddon);

describe.each([
  ['saved in one job of the addon', undefined],
  ['saved through node:fs/promises', false as const],
])('CheckpointStore, %s', (_, oneJob) => {
  class CheckpointStore extends BaseStore {
    constructor(p: string, o: CheckpointStoreOptions = {}) {
      super(p, { ...o, oneJob });
    }
  }
  it('starts empty and round-trips what was saved', async () => {
    const store = new CheckpointStore(file);
    expect((await store.load()).size).toBe(0);
    await store.save([cp('a', 10), cp('b', 20)]);
    const loaded = await new CheckpointStore(file).load();
    expect([...loaded.values()]).toEqual([cp('a', 10), cp('b', 20)]);
    expect(loaded.get('b')!.offset).toBe(20);
  });

  it('keeps the read position beside the files, where versions that do not know it ignore it', async () => {
    const store = new CheckpointStore(file);
    await store.save([{ ...cp('a', 10), readTo: 50 }, { ...cp('b', 20), readTo: 20 }]);
    const json = JSON.parse(await readFile(file, 'utf8')) as { files: object[]; readTo: Record<string, number> };
    expect(json.files).toEqual([cp('a', 10), cp('b', 20)]);
    expect(json.readTo).toEqual({ a: 50 });
    const loaded = await new CheckpointStore(file).load();
    expect(loaded.get('a')).toEqual({ ...cp('a', 10), readTo: 50 });
    expect(loaded.get('b')).toEqual(cp('b', 20));
  });

  it('writes versioned JSON with mode 0600 and keeps only known fields', async () => {
    const store = new CheckpointStore(file);
    await store.save([{ ...cp('a', 1), extra: 'x' } as FileCheckpoint]);
    const json = JSON.parse(await readFile(file, 'utf8'));
    expect(json).toEqual({ version: 1, files: [cp('a', 1)] });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('keeps the previous version as .bak', async () => {
    const store = new CheckpointStore(file);
    await store.save([cp('a', 1)]);
    await store.save([cp('a', 2)]);
    await store.save([cp('a', 3)]);
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8')).files[0].offset).toBe(2);
    expect(JSON.parse(await readFile(file, 'utf8')).files[0].offset).toBe(3);
  });

  it('saves on after its directory was removed, and past a staging file left by a failed save', async () => {
    const store = new CheckpointStore(file);
    await store.save([cp('a', 1)]);
    await rm(path.dirname(file), { recursive: true });
    await store.save([cp('a', 2)]);
    await writeFile(`${file}.bak.tmp-${process.pid}`, 'left over');
    await store.save([cp('a', 3)]);
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8')).files[0].offset).toBe(2);
    expect(JSON.parse(await readFile(file, 'utf8')).files[0].offset).toBe(3);
    expect((await readdir(path.dirname(file))).sort()).toEqual(['checkpoints.json', 'checkpoints.json.bak']);
  });

  it('applies concurrent saves in call order and snapshots the values at call time', async () => {
    const store = new CheckpointStore(file);
    const live = cp('a', 0);
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 20; i++) {
      live.offset = i;
      saves.push(store.save([live]));
    }
    live.offset = 999;
    await Promise.all(saves);
    expect((await new CheckpointStore(file).load()).get('a')!.offset).toBe(20);
    expect((await readdir(path.dirname(file))).sort()).toEqual(['checkpoints.json', 'checkpoints.json.bak']);
  });

  it('ignores (and cleans up) a temporary file left by a crash during save', async () => {
    const store = new CheckpointStore(file);
    await store.save([cp('a', 5)]);
    // A crash after writing the temporary file but before the rename: half a file under a temporary name.
    const torn = `${file}.tmp-12345-1`;
    await writeFile(torn, '{"version":1,"files":[{"fileId":"a","pa');
    expect((await new CheckpointStore(file).load()).get('a')!.offset).toBe(5);
    expect(await readdir(path.dirname(file))).not.toContain(path.basename(torn));
  });

  it.each([
    ['torn JSON', '{"version":1,"files":[{"fileId":"a",'],
    ['empty file', ''],
    ['wrong structure', '{"version":1,"files":[{"fileId":"a","offset":-1}]}'],
    ['garbage', '\u0000\u0001\u0002'],
  ])('falls back to .bak when the current file is corrupt (%s)', async (_name, content) => {
    const store = new CheckpointStore(file);
    await store.save([cp('a', 1)]);
    await store.save([cp('a', 2)]);
    await writeFile(file, content);
    const recovered: string[] = [];
    const reopened = new CheckpointStore(file, { onRecovered: (copy, reason) => recovered.push(`${copy}: ${reason}`) });
    expect((await reopened.load()).get('a')!.offset).toBe(1);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.startsWith(`${file}.corrupt: `)).toBe(true);
    expect(await readFile(`${file}.corrupt`, 'utf8')).toBe(content);
    // Loading again (before any save) still finds the previous version rather than starting over.
    expect((await new CheckpointStore(file).load()).get('a')!.offset).toBe(1);
    // And the next save works normally.
    await reopened.save([cp('a', 3)]);
    expect((await new CheckpointStore(file).load()).get('a')!.offset).toBe(3);
  });

  it('fails with a one-line CheckpointError and keeps a .corrupt copy when there is no previous version', async () => {
    const store = new CheckpointStore(file);
    await store.save([cp('a', 1)]);
    await writeFile(file, '{"version":1,"fil');
    const err = await new CheckpointStore(file).load().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toBe(`checkpoints ${file}: unreadable (not valid JSON); a copy is kept at ${file}.corrupt`);
    expect(await readFile(`${file}.corrupt`, 'utf8')).toBe('{"version":1,"fil');
  });

  it('fails when both versions are corrupt', async () => {
    const store = new CheckpointStore(file);
    await store.save([cp('a', 1)]);
    await store.save([cp('a', 2)]);
    await writeFile(file, 'x');
    await writeFile(`${file}.bak`, 'y');
    await expect(new CheckpointStore(file).load()).rejects.toBeInstanceOf(CheckpointError);
  });

  it('refuses a newer format version without calling it corrupt', async () => {
    const store = new CheckpointStore(file);
    await store.save([cp('a', 1)]);
    await writeFile(file, '{"version":2,"files":[]}');
    await expect(new CheckpointStore(file).load()).rejects.toThrow(/format version 2 is not supported/);
    await expect(stat(`${file}.corrupt`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a failed save as a CheckpointError', async () => {
    await writeFile(path.join(dir, 'blocker'), 'a file where a directory should be');
    const store = new CheckpointStore(path.join(dir, 'blocker', 'checkpoints.json'));
    await expect(store.save([cp('a', 1)])).rejects.toThrow(/^checkpoints .*: cannot save \((ENOTDIR|EEXIST)\)$/);
    // A failed save does not block the next ones.
    const other = new CheckpointStore(file);
    await other.save([cp('a', 1)]);
    expect((await other.load()).size).toBe(1);
  });
});

describe('CheckpointStore with the addon', () => {
  it('is built with the addon here, and saves in one job of it per save', async () => {
    expect(replaceFileDurably).toBeTypeOf('function');
    await mkdir(path.dirname(file)); // (a missing directory costs a second job: made, then the save again)
    const calls: string[] = [];
    const store = new BaseStore(file, { oneJob: (...args) => (calls.push(args[1]), replaceFileDurably!(...args)) });
    await store.save([cp('a', 1)]);
    await store.save([cp('a', 2)]);
    expect(calls).toEqual([file, file]);
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8')).files[0].offset).toBe(1);
    expect(JSON.parse(await readFile(file, 'utf8')).files[0].offset).toBe(2);
  });

  it('saves through node:fs/promises from then on where the file system has no hard links', async () => {
    let calls = 0;
    const noLinks = () => (calls++, Promise.reject(Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM', syscall: 'link' })));
    const store = new BaseStore(file, { oneJob: noLinks });
    await store.save([cp('a', 1)]);
    await store.save([cp('a', 2)]);
    expect(calls).toBe(1);
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8')).files[0].offset).toBe(1);
    expect(JSON.parse(await readFile(file, 'utf8')).files[0].offset).toBe(2);
  });

  it('reports a failed job as a CheckpointError naming the code', async () => {
    const full = () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }));
    await expect(new BaseStore(file, { oneJob: full }).save([cp('a', 1)])).rejects.toThrow(/^checkpoints .*: cannot save \(ENOSPC\)$/);
  });
});

describe('replaceFileDurably (the addon)', () => {
  const replace = (target: string, body: string, backup = true) =>
    replaceFileDurably!(`${target}.tmp`, target, backup ? `${target}.bak.tmp` : '', backup ? `${target}.bak` : '', path.dirname(target), Buffer.from(body));

  it('replaces the file, keeps the previous version, and only with a backup path', async () => {
    const target = path.join(dir, 'f.json');
    await replace(target, 'one');
    expect(await readdir(dir)).toEqual(['f.json']);
    await writeFile(`${target}.bak.tmp`, 'left by a failed save');
    await replace(target, 'two');
    await replace(target, 'three', false);
    expect(await readFile(target, 'utf8')).toBe('three');
    expect(await readFile(`${target}.bak`, 'utf8')).toBe('one');
    expect((await readdir(dir)).sort()).toEqual(['f.json', 'f.json.bak']);
    expect((await stat(target)).mode & 0o777).toBe(0o600);
  });

  it('rejects with the code and the call that failed, and leaves no temporary file', async () => {
    await expect(replace(path.join(dir, 'missing', 'f.json'), 'x')).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    const target = path.join(dir, 'is-a-dir');
    await mkdir(target);
    await writeFile(path.join(target, 'inside'), 'x');
    await expect(replace(target, 'x', false)).rejects.toMatchObject({ code: 'EISDIR', syscall: 'rename', message: expect.stringMatching(/^EISDIR: .*, rename$/) });
    expect((await readdir(dir)).sort()).toEqual(['is-a-dir']);
  });
});
