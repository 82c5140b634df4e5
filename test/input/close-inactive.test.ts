// Bounded open files: idle files are closed and reopened when they change, and 10,000 files never hold 10,000 fds.
import { readdirSync, readlinkSync } from 'node:fs';
import { appendFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAST, offsetsGrowPerFile, useInputFixture, until } from './harness.js';

const fixture = useInputFixture();
const harness = fixture.harness;

/** Open file descriptors of this process, as the kernel lists them. */
function fdTargets(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // Closed between the listing and the readlink (the listing's own fd, among others).
    }
  }
  return out;
}

function fdsOn(file: string): number {
  return fdTargets().filter((t) => t === file).length;
}

describe('closeInactive and maxOpenFiles', () => {
  it('reads every line of 10,000 files exactly once without ever holding more than maxOpenFiles of them open', async () => {
    const files = 10_000;
    const maxOpenFiles = 64;
    const names = Array.from({ length: files }, (_, i) => path.join(fixture.dir, `f${i}.log`));
    for (let i = 0; i < files; i += 500) {
      await Promise.all(names.slice(i, i + 500).map((p, k) => writeFile(p, `f${i + k} a\nf${i + k} b\n`)));
    }
    // All of this process's descriptors are counted (one getdents, cheap enough to do often), against those open before.
    const before = readdirSync('/proc/self/fd').length;
    let most = 0;
    const sample = () => {
      most = Math.max(most, readdirSync('/proc/self/fd').length - before);
    };
    // Sampled after every read() and on a timer, so scans (which open new files) are watched too.
    const timer = setInterval(sample, 5);
    try {
      const h = harness([{ paths: [path.join(fixture.dir, '*.log')] }], { maxOpenFiles, afterRead: sample, batch: 4096 });
      await h.waitForLines(2 * files, `${2 * files} lines`, 60_000);
      const texts = h.texts();
      expect(texts).toHaveLength(2 * files);
      expect(new Set(texts).size).toBe(2 * files);
      expect(offsetsGrowPerFile(h.entries)).toBe(true);
      expect(h.eventsOf('error')).toEqual([]);
    } finally {
      clearInterval(timer);
    }
    expect(most).toBeGreaterThan(0);
    // + the directory watch, a file being opened while one closes, and slack for the test runner's own descriptors.
    expect(most).toBeLessThanOrEqual(maxOpenFiles + 8);
  }, 90_000);

  it('closes a file idle for closeInactive, reopens it when it grows and reads only the new lines', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, 'one\ntwo\n');
    const h = harness([{ paths: [file], ...FAST, closeInactiveMs: 100 }]);
    await h.waitForLines(2);
    await until(() => fdsOn(file) === 0, 'the idle file to be closed');
    await appendFile(file, 'three\n');
    await h.waitForLines(3);
    expect(fdsOn(file)).toBe(1);
    await until(() => fdsOn(file) === 0, 'the file to be closed again');
    await appendFile(file, 'four\n');
    await h.waitForLines(4);
    expect(h.texts()).toEqual(['one', 'two', 'three', 'four']);
    expect(new Set(h.entries.map((e) => e.fileId)).size).toBe(1);
    expect(h.input.files()).toMatchObject([{ path: file, offset: 19 }]);
  });

  it('finishes a closed file that was written to and then rotated away, and reads the new file at its name from 0', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, 'old 1\n');
    const h = harness([{ paths: [file], ...FAST, closeInactiveMs: 100 }]);
    await h.waitForLines(1);
    await until(() => fdsOn(file) === 0, 'the idle file to be closed');
    // logrotate renames to a name the glob does not match; the writer, still holding its descriptor, writes one more
    // line to the renamed file before it reopens its log at the old name. Only dev+ino can find that line now.
    await rename(file, `${file}.1`);
    await appendFile(`${file}.1`, 'old 2\n');
    await writeFile(file, 'new 1\n');
    await h.waitForLines(3);
    await h.waitForEvent('finished');
    expect(h.texts().sort()).toEqual(['new 1', 'old 1', 'old 2']);
    expect(h.texts().indexOf('old 2')).toBeGreaterThan(h.texts().indexOf('old 1'));
    expect(offsetsGrowPerFile(h.entries)).toBe(true);
    expect(h.eventsOf('finished')).toMatchObject([{ path: `${file}.1` }]);
  });

  it('reads a closed file that was rewritten in place (same inode, other first bytes) from 0 as a new file id', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, 'first version\n');
    const h = harness([{ paths: [file], ...FAST, closeInactiveMs: 100 }]);
    await h.waitForLines(1);
    await until(() => fdsOn(file) === 0, 'the idle file to be closed');
    await writeFile(file, 'second version, longer\n'); // truncates and rewrites the same inode
    await h.waitForLines(2);
    expect(h.texts()).toEqual(['first version', 'second version, longer']);
    expect(new Set(h.entries.map((e) => e.fileId)).size).toBe(2);
  });
});
