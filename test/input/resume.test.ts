// Restarting from checkpoints: resume where acknowledged, finish files rotated away meanwhile, never mix up files.
import { createHash } from 'node:crypto';
import { appendFile, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileCheckpoint } from '../../agent/input/index.js';
import { contentOf, FAST, Harness, readEntries, tagOf, useInputFixture } from './harness.js';

const fixture = useInputFixture();
const harness = fixture.harness;

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');
const numbered = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}`);

/** First run: reads `n` entries (as if exactly those were acknowledged) and returns the checkpoints. */
async function runAndStop(inputs: ConstructorParameters<typeof Harness>[0], n: number): Promise<Map<string, FileCheckpoint>> {
  const first = new Harness(inputs, { consume: false });
  const got = [];
  while (got.length < n) got.push(...(await readEntries(first.input, n - got.length)));
  const checkpoints = first.checkpoints();
  await first.close();
  return checkpoints;
}

describe('resume from checkpoints', () => {
  it('continues at the checkpoint offset with the same file id, even with startAt end', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, lines(0, 100));
    const first = harness([{ paths: [file], ...FAST }], { consume: false });
    const got = await readEntries(first.input, 30);
    expect(got).toHaveLength(30);
    const [cp] = first.input.files();
    expect(cp.offset).toBe(got[29].endOffset); // the offset of what read() returned, not of what was read from disk
    expect(cp.offset).toBe(Buffer.byteLength(lines(0, 30)));
    const checkpoints = first.checkpoints();
    await first.close();

    await appendFile(file, lines(100, 110));
    const second = harness([{ paths: [file], startAt: 'end', ...FAST }], { checkpoints });
    await second.waitForLines(80);
    expect(second.texts()).toEqual(numbered(30, 110));
    expect(cp.startOffset).toBe(0);
    expect(second.input.files()[0]).toMatchObject({ startOffset: cp.offset, offset: Buffer.byteLength(lines(0, 110)) });
    expect(new Set(second.entries.map((e) => e.fileId))).toEqual(new Set([cp.fileId]));
    expect(second.eventsOf('opened')[0].message).toBe(`resuming at offset ${cp.offset}`);
  });

  it('finishes a file that was rotated away (renamed, not matched by the glob) before the restart', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, lines(0, 50));
    const checkpoints = await runAndStop([{ paths: [file], ...FAST }], 20);
    const [cp] = [...checkpoints.values()];

    await rename(file, `${file}.1`);
    await appendFile(`${file}.1`, lines(50, 55)); // the application wrote a little more before reopening
    await writeFile(file, lines(55, 60)); // ...then the new file, also while we were stopped

    const second = harness([{ paths: [file], startAt: 'end', ...FAST }], { checkpoints });
    await second.waitForLines(40);
    await second.waitForEvent('finished');
    const fromOld = second.entries.filter((e) => e.fileId === cp.fileId);
    const fromNew = second.entries.filter((e) => e.fileId !== cp.fileId);
    expect(fromOld.map((e) => contentOf(e))).toEqual(numbered(20, 55));
    // The new file appeared at a path we followed: it is new data, read from 0 despite startAt end.
    expect(fromNew.map((e) => contentOf(e))).toEqual(numbered(55, 60));
    expect(fromOld.every((e) => tagOf(e, '__path__') === file)).toBe(true);
    const opened = second.eventsOf('opened').find((e) => e.fileId === cp.fileId)!;
    expect(opened.path).toBe(`${file}.1`);
    expect(opened.message).toContain('rotated away');
    expect(second.eventsOf('finished')[0].fileId).toBe(cp.fileId);
  });

  it('treats a file on a checkpointed inode with other first bytes as new (inode reuse), reading it from 0', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, lines(0, 5));
    const st = await stat(file);
    const other = Buffer.from('line 999 from the deleted file\n');
    const stale: FileCheckpoint = {
      fileId: 'old-file',
      path: file,
      dev: st.dev,
      ino: st.ino,
      fingerprint: createHash('sha256').update(other).digest('hex'),
      fingerprintBytes: other.length,
      offset: 14,
    };
    const h = harness([{ paths: [file], startAt: 'end', ...FAST }], { checkpoints: new Map([[stale.fileId, stale]]) });
    await h.waitForLines(5);
    expect(h.texts()).toEqual(numbered(0, 5));
    expect(h.entries[0].fileId).not.toBe('old-file');
    expect(h.eventsOf('opened')[0].message).toContain('inode reused');
  });

  it('reads a file recreated on a reused inode while stopped from 0, not from the old offset', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, lines(0, 5));
    const checkpoints = await runAndStop([{ paths: [file], ...FAST }], 5);
    const [cp] = [...checkpoints.values()];
    await unlink(file);
    await writeFile(file, `new ${lines(5, 20)}`); // ext4 and tmpfs usually hand out the freed inode again
    const reused = (await stat(file)).ino === cp.ino;
    const h = harness([{ paths: [file], ...FAST }], { checkpoints });
    await h.waitForLines(15);
    expect(h.texts()).toEqual(['new line 5', ...numbered(6, 20)]);
    expect(h.entries[0].fileId).not.toBe(cp.fileId);
    expect(h.eventsOf('opened')[0].message).toContain(reused ? 'inode reused' : 'created while stopped');
  });

  it('matches a checkpoint taken while the file was shorter than the fingerprint size', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, 'line 0\n');
    const checkpoints = await runAndStop([{ paths: [file], ...FAST }], 1);
    expect([...checkpoints.values()][0].fingerprintBytes).toBe(7);
    await appendFile(file, lines(1, 300)); // now far past 1024 bytes
    const h = harness([{ paths: [file], ...FAST }], { checkpoints });
    await h.waitForLines(299);
    expect(h.texts()).toEqual(numbered(1, 300));
    expect(h.input.files()[0].fingerprintBytes).toBe(1024);
  });

  it('reads from 0 when the checkpointed file is shorter than its checkpoint (truncated while stopped)', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, lines(0, 10));
    const checkpoints = await runAndStop([{ paths: [file], ...FAST }], 10);
    const fh = await open(file, 'r+');
    await fh.truncate(7); // keeps "line 0\n": the fingerprint prefix still matches the first 7 bytes only
    await fh.close();
    const [cp] = [...checkpoints.values()];
    // Pretend the checkpoint's fingerprint was taken over those 7 bytes, so only the offset shows the truncation.
    cp.fingerprint = createHash('sha256').update('line 0\n').digest('hex');
    cp.fingerprintBytes = 7;
    const h = harness([{ paths: [file], ...FAST }], { checkpoints });
    await h.waitForLines(1);
    expect(h.texts()).toEqual(['line 0']);
    expect(h.eventsOf('truncated')[0].message).toContain('< checkpoint');
  });

  it('continues the piece numbering when resuming inside a line that was being split', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, `${'a'.repeat(10)}${'b'.repeat(10)}${'c'.repeat(10)}ddddd\nline 1\n`);
    const checkpoints = await runAndStop([{ paths: [file], maxLineBytes: 10, ...FAST }], 2);
    expect([...checkpoints.values()][0].offset).toBe(20);
    const h = harness([{ paths: [file], maxLineBytes: 10, ...FAST }], { checkpoints });
    await h.waitForLines(3);
    expect(h.entries.map((e) => [contentOf(e), contentOf(e, '__split__') ?? null])).toEqual([
      ['cccccccccc', '3/?'],
      ['ddddd', '4/4'],
      ['line 1', null],
    ]);
  });

  it('resumes several files independently', async () => {
    await writeFile(path.join(fixture.dir, 'a.log'), lines(0, 10));
    await writeFile(path.join(fixture.dir, 'b.log'), lines(100, 103));
    const first = harness([{ paths: [path.join(fixture.dir, '*.log')], ...FAST }], { consume: false });
    const got = [];
    while (got.length < 13) got.push(...(await readEntries(first.input, 13)));
    const checkpoints = first.checkpoints();
    await first.close();
    await appendFile(path.join(fixture.dir, 'a.log'), lines(10, 12));
    await appendFile(path.join(fixture.dir, 'b.log'), lines(103, 104));
    const h = harness([{ paths: [path.join(fixture.dir, '*.log')], ...FAST }], { checkpoints });
    await h.waitForLines(3);
    expect(h.texts().sort()).toEqual(['line 10', 'line 103', 'line 11']);
  });
});
