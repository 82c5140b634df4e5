// Files changing under the reader: rename rotation, deletion, copytruncate, truncation and in-place rewrites.
import { copyFile, open, rename, truncate, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentOf, FAST, offsetsGrowPerFile, readEntries, tagOf, useInputFixture, type Entry } from './harness.js';

const fixture = useInputFixture();
const harness = fixture.harness;

const yieldToReader = () => new Promise((r) => setImmediate(r));

/** Every numbered line exactly once, and in order within each file. */
function expectExactlyOnce(entries: Entry[], total: number): void {
  const numbers = entries.map((e) => Number(/^line (\d+)$/.exec(contentOf(e) ?? '')?.[1] ?? NaN));
  const sorted = [...numbers].sort((a, b) => a - b);
  expect(sorted).toEqual(Array.from({ length: total }, (_, i) => i));
  const lastPerFile = new Map<string, number>();
  for (let i = 0; i < entries.length; i++) {
    expect(numbers[i]).toBeGreaterThan(lastPerFile.get(entries[i].fileId) ?? -1);
    lastPerFile.set(entries[i].fileId, numbers[i]);
  }
  expect(offsetsGrowPerFile(entries)).toBe(true);
}

describe('rename rotation', () => {
  it('delivers every line once while the writer rotates, finishing each old file and then closing it', async () => {
    const file = path.join(fixture.dir, 'app.log');
    let fh = await open(file, 'a');
    const h = harness([{ paths: [file], ...FAST }]);
    const total = 6000;
    let rotations = 0;
    for (let n = 0; n < total; ) {
      await fh.write(`line ${n++}\n`);
      if (n % 2000 === 0 && n < total) {
        await rename(file, `${file}.${++rotations}`);
        // As with a real application, a few lines still land in the old file before it reopens the path.
        for (let k = 0; k < 5; k++) await fh.write(`line ${n++}\n`);
        await fh.close();
        fh = await open(file, 'a');
      }
      if (n % 50 === 0) await yieldToReader();
    }
    await fh.close();
    await h.waitForLines(total);
    await h.waitForEvent('finished', 2);
    expectExactlyOnce(h.entries, total);
    expect(h.eventsOf('rotated')).toHaveLength(2);
    expect(new Set(h.entries.map((e) => e.fileId)).size).toBe(3);
    // The rotated files' logs keep the path they were written under.
    expect(new Set(h.entries.map((e) => tagOf(e, '__path__')))).toEqual(new Set([file]));
    // Closed files drop out of files() once their entries were handed out; the current one stays.
    expect(h.input.files().map((f) => f.path)).toEqual([file]);
  });

  it('keeps following a file renamed to a name the glob also matches, without reading it again', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, 'line 0\nline 1\n');
    const h = harness([{ paths: [`${file}*`], ...FAST }]);
    await h.waitForLines(2);
    await rename(file, `${file}.1`);
    await writeFile(file, 'line 3\n');
    await h.waitForLines(3);
    const old = await open(`${file}.1`, 'a');
    await old.write('line 2\n');
    await old.close();
    await h.waitForLines(4);
    expectExactlyOnce(h.entries, 4);
    const rotated = h.eventsOf('rotated');
    expect(rotated).toHaveLength(1);
    expect(rotated[0].message).toContain(`${file}.1`);
    expect(h.eventsOf('finished')).toEqual([]);
    expect(h.input.files().map((f) => f.path).sort()).toEqual([file, `${file}.1`]);
  });

  it('still reads lines written to the old file after the rotation was noticed, until it has been quiet', async () => {
    const file = path.join(fixture.dir, 'app.log');
    const fh = await open(file, 'a');
    await fh.write('line 0\n');
    const h = harness([{ paths: [file], ...FAST }], { rotateWaitMs: 1500 });
    await h.waitForLines(1);
    await rename(file, `${file}.1`);
    await h.waitForEvent('rotated');
    await fh.write('line 1\n');
    await h.waitForLines(2);
    await fh.write('line 2\n');
    await h.waitForLines(3);
    expect(h.eventsOf('finished')).toEqual([]);
    await h.waitForEvent('finished');
    await fh.close();
    expectExactlyOnce(h.entries, 3);
  });

  it('emits a final line without newline once the rotated file has been quiet', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, 'line 0\nline 1');
    const h = harness([{ paths: [file], ...FAST }]);
    await h.waitForLines(1);
    await rename(file, `${file}.1`);
    await h.waitForEvent('finished');
    await h.waitForLines(2);
    expectExactlyOnce(h.entries, 2);
    expect(h.entries[1].endOffset).toBe(13);
  });
});

describe('deleted files', () => {
  it('reads what is still written to a deleted file through the open handle, then closes it', async () => {
    const file = path.join(fixture.dir, 'app.log');
    const fh = await open(file, 'a');
    const h = harness([{ paths: [file], ...FAST }]);
    for (let n = 0; n < 10; n++) await fh.write(`line ${n}\n`);
    await h.waitForLines(10);
    await unlink(file);
    for (let n = 10; n < 20; n++) await fh.write(`line ${n}\n`);
    await h.waitForLines(20);
    await h.waitForEvent('removed');
    await h.waitForEvent('finished');
    await fh.close();
    expectExactlyOnce(h.entries, 20);
    expect(h.input.files()).toEqual([]);
  });
});

describe('truncation', () => {
  it('copytruncate: after the copy and truncate, reads the file again from 0, losing and repeating nothing', async () => {
    const file = path.join(fixture.dir, 'app.log');
    const fh = await open(file, 'a'); // O_APPEND, as copytruncate requires of the writer
    const h = harness([{ paths: [file], ...FAST }]);
    for (let n = 0; n < 100; n++) await fh.write(`line ${n}\n`);
    await h.waitForLines(100);
    await copyFile(file, `${file}.1`);
    await truncate(file, 0);
    for (let n = 100; n < 150; n++) await fh.write(`line ${n}\n`);
    await fh.close();
    await h.waitForLines(150);
    await h.waitForEvent('truncated');
    expectExactlyOnce(h.entries, 150);
    const [event] = h.eventsOf('truncated');
    expect(event.message).toMatch(/size \d+ < offset \d+/);
    // Offsets restart under a new file id, so each id's offsets still only grow.
    expect(new Set(h.entries.map((e) => e.fileId)).size).toBe(2);
    expect(event.fileId).toBe(h.entries[149].fileId);
    await h.waitForLines(150);
    expect(h.input.files()).toHaveLength(1);
  });

  it('emits the partial line a truncated file held, since those bytes are gone from it', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, 'line 0\nline 1');
    const h = harness([{ paths: [file], ...FAST }]);
    await h.waitForLines(1);
    await truncate(file, 0);
    await h.waitForEvent('truncated');
    await writeFile(file, 'line 2\n');
    await h.waitForLines(3);
    expectExactlyOnce(h.entries, 3);
  });

  it('notices content rewritten in place at the same size or larger by its fingerprint', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, 'line 0\nline 1\n');
    const h = harness([{ paths: [file], ...FAST }], { consume: false });
    const first = await readEntries(h.input, 10);
    expect(first.map((e) => contentOf(e))).toEqual(['line 0', 'line 1']);
    // Overwrite from offset 0 without truncating: the size never drops below what was read.
    const fh = await open(file, 'r+');
    await fh.write('line 2\nline 3\nline 4\n', 0);
    await fh.close();
    await h.waitForEvent('truncated');
    expect(h.eventsOf('truncated')[0].message).toContain('first bytes changed');
    const next = await readEntries(h.input, 10);
    expect(next.map((e) => contentOf(e))).toEqual(['line 2', 'line 3', 'line 4']);
    expect(next[0].fileId).not.toBe(first[0].fileId);
  });
});
