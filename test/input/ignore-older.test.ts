// inputs[].ignoreOlder: old files are not opened until written again; files with a checkpoint are resumed regardless.
import { appendFile, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FAST, useInputFixture } from './harness.js';

const fixture = useInputFixture();
const harness = fixture.harness;
const HOUR = 3_600_000;

async function age(file: string, ms: number): Promise<void> {
  const t = (Date.now() - ms) / 1000;
  await utimes(file, t, t);
}

describe('FileInput: ignoreOlder', () => {
  it('does not open files older than ignoreOlder, and reads one written again from where it ended', async () => {
    const old = path.join(fixture.dir, 'old.log');
    const fresh = path.join(fixture.dir, 'fresh.log');
    await writeFile(old, 'old 1\nold 2\n');
    await age(old, 2 * HOUR);
    await writeFile(fresh, 'fresh 1\n');
    const h = harness([{ paths: [path.join(fixture.dir, '*.log')], ignoreOlderMs: HOUR, startAt: 'beginning', ...FAST }]);
    await h.waitForLines(1);
    // A file created now is found by a later scan, which also passed over old.log again.
    await writeFile(path.join(fixture.dir, 'later.log'), 'later 1\n');
    await h.waitForLines(2);
    expect(h.texts().sort()).toEqual(['fresh 1', 'later 1']);
    expect(h.eventsOf('opened').map((e) => path.basename(e.path)).sort()).toEqual(['fresh.log', 'later.log']);

    await appendFile(old, 'old 3\n');
    await h.waitForLines(3);
    expect(h.texts()[2]).toBe('old 3');
    expect(h.eventsOf('opened').find((e) => e.path === old)?.message).toBe('written again after ignoreOlder; reading from offset 12');
  });

  it('resumes a file with a checkpoint whatever its age: lines after the checkpoint are not skipped', async () => {
    const file = path.join(fixture.dir, 'app.log');
    await writeFile(file, 'a\nb\n');
    const h1 = harness([{ paths: [file], startAt: 'beginning', ...FAST }]);
    await h1.waitForLines(2);
    const saved = h1.checkpoints();
    await h1.close();
    await appendFile(file, 'c\n');
    await age(file, 2 * HOUR);
    const h2 = harness([{ paths: [file], ignoreOlderMs: HOUR, ...FAST }], { checkpoints: saved });
    await h2.waitForLines(1);
    expect(h2.texts()).toEqual(['c']);
  });

  it('resumes an old file compressed while stopped (app.log.1 -> app.log.1.gz) at its checkpoint', async () => {
    const file = path.join(fixture.dir, 'app.log.1');
    await writeFile(file, 'a\nb\n');
    const h1 = harness([{ paths: [path.join(fixture.dir, 'app.log*')], startAt: 'beginning', ...FAST }]);
    await h1.waitForLines(2);
    const saved = h1.checkpoints();
    await h1.close();
    // While stopped: the last line, then logrotate's compress (gzip keeps the old mtime) and the plain file deleted.
    await appendFile(file, 'c\n');
    await writeFile(`${file}.gz`, gzipSync(await readFile(file)));
    await rm(file);
    await age(`${file}.gz`, 2 * HOUR);
    const h2 = harness([{ paths: [path.join(fixture.dir, 'app.log*')], ignoreOlderMs: HOUR, ...FAST }], { checkpoints: saved });
    await h2.waitForLines(1);
    expect(h2.texts()).toEqual(['c']);
  });
});
