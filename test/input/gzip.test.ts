// Compressed rotated files: read decompressed once, a stream still being written is read as far as it is complete,
// and a plain file compressed by logrotate (app.log.1 -> app.log.1.gz) is not shipped twice.
import { execFile } from 'node:child_process';
import { appendFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FAST, offsetsGrowPerFile, useInputFixture } from './harness.js';

const fixture = useInputFixture();
const harness = fixture.harness;
const run = promisify(execFile);

const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix} ${i} ${'p'.repeat(i % 50)}`);
const text = (ls: string[]) => ls.map((l) => `${l}\n`).join('');

describe('gzip-compressed files', () => {
  it('reads a matched .gz file decompressed, once, and checkpoints its decompressed offset', async () => {
    const content = lines('gz', 5000);
    await writeFile(path.join(fixture.dir, 'app.log.1.gz'), gzipSync(`${text(content)}last line without newline`));
    const h = harness([{ paths: [path.join(fixture.dir, 'app.log*')], ...FAST }]);
    await h.waitForLines(content.length + 1);
    // Later scans must not read it again: wait for a file that appears after several of them.
    await writeFile(path.join(fixture.dir, 'app.log'), 'marker\n');
    await h.waitForLines(content.length + 2);
    expect(h.texts()).toEqual([...content, 'last line without newline', 'marker']);
    const gz = h.input.files().find((f) => f.path.endsWith('.gz'))!;
    expect(gz.offset).toBe(Buffer.byteLength(text(content)) + 'last line without newline'.length);
  });

  it('reads a .gz file still being written as far as its stream goes, and the rest once it is complete', async () => {
    const content = lines('partial', 20_000);
    const gz = gzipSync(text(content));
    const file = path.join(fixture.dir, 'old.log.gz');
    await writeFile(file, gz.subarray(0, gz.length >> 1));
    const h = harness([{ paths: [path.join(fixture.dir, '*.gz')], ...FAST }]);
    await h.waitForLines(100, 'the lines of the first half');
    await appendFile(file, gz.subarray(gz.length >> 1));
    await h.waitForLines(content.length);
    await writeFile(path.join(fixture.dir, 'marker.gz'), gzipSync('marker\n'));
    await h.waitForLines(content.length + 1);
    expect(h.texts()).toEqual([...content, 'marker']);
    expect(offsetsGrowPerFile(h.entries)).toBe(true);
  });

  it('does not ship again a rotated file that logrotate then compresses (rename, gzip, delete)', async () => {
    const log = path.join(fixture.dir, 'app.log');
    const before = lines('before', 3000);
    await writeFile(log, text(before));
    const h = harness([{ paths: [path.join(fixture.dir, 'app.log*')], ...FAST }]);
    await h.waitForLines(before.length);
    // logrotate: rename, the writer adds a line through its open descriptor, a new file, then `gzip app.log.1`.
    await rename(log, `${log}.1`);
    await appendFile(`${log}.1`, 'after rename\n');
    await writeFile(log, 'new file\n');
    await h.waitForLines(before.length + 2);
    await run('gzip', [`${log}.1`]);
    await h.waitForEvent('finished');
    await appendFile(log, 'marker\n');
    await h.waitForLines(before.length + 3);
    // The compressed copy is opened only after the plain file finished, and at the offset it ended at.
    const opened = h.events.find((e) => e.type === 'opened' && e.path.endsWith('.gz'));
    if (opened) expect(opened.message).toMatch(/compressed copy/);
    expect(h.texts().sort()).toEqual([...before, 'after rename', 'new file', 'marker'].sort());
  });

  it('after a restart, reads only what the checkpoint of a file compressed while stopped had not reached', async () => {
    const file = path.join(fixture.dir, 'app.log.1');
    await writeFile(file, text(lines('first', 500)));
    const first = harness([{ paths: [path.join(fixture.dir, 'app.log*')], ...FAST }]);
    await first.waitForLines(500);
    const checkpoints = first.checkpoints();
    await first.close();
    await appendFile(file, text(lines('later', 20)));
    await run('gzip', [file]);
    const second = harness([{ paths: [path.join(fixture.dir, 'app.log*')], ...FAST }], { checkpoints });
    await second.waitForLines(20);
    await writeFile(path.join(fixture.dir, 'app.log'), 'marker\n');
    await second.waitForLines(21);
    expect(second.texts()).toEqual([...lines('later', 20), 'marker']);
  });
});
