// Fair reading: a file written at full speed by another process does not starve quiet files next to it.
import { spawn } from 'node:child_process';
import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentOf, entriesOf, useInputFixture } from './harness.js';

const fixture = useInputFixture();
const harness = fixture.harness;

/** A separate process appending 100-byte lines to `file` as fast as it can, up to 256 MiB, until killed. */
function hotWriter(file: string) {
  const script = `
    const fs = require('node:fs');
    const fd = fs.openSync(process.argv[1], 'a');
    const line = Buffer.from('hot ' + 'x'.repeat(95) + '\\n');
    const block = Buffer.concat(Array(640).fill(line));
    for (let written = 0; written < 256 * 2 ** 20; written += block.length) fs.writeSync(fd, block);
  `;
  return spawn(process.execPath, ['-e', script, file], { stdio: 'ignore' });
}

describe('fair reading across files', () => {
  it('delivers a quiet file\'s new line within a few chunks of a hot file that never runs dry', async () => {
    const chunk = 16 * 1024;
    const hot = path.join(fixture.dir, 'hot.log');
    const quiet = [1, 2, 3, 4].map((i) => path.join(fixture.dir, `quiet-${i}.log`));
    // 8 MiB already there: a reader that drained the hot file first would keep the quiet lines waiting for all of it.
    await writeFile(hot, `hot ${'x'.repeat(95)}\n`.repeat(80 * 1024 + 1));
    for (const q of quiet) await writeFile(q, '');
    const writer = hotWriter(hot);
    try {
      const h = harness([{ paths: [path.join(fixture.dir, '*.log')], scanIntervalMs: 60_000 }], { readChunkBytes: chunk, consume: false });
      let hotBytes = 0;
      const quietSeen: string[] = [];
      const readSome = async () => {
        for (const run of await h.input.read(256)) {
          for (const e of entriesOf(run)) {
            if (contentOf(e)!.startsWith('hot ')) hotBytes = e.endOffset;
            else quietSeen.push(contentOf(e)!);
          }
        }
      };
      const lags: number[] = [];
      for (let round = 0; round < 3; round++) {
        const target = hotBytes + 256 * 1024;
        while (hotBytes < target) await readSome();
        const appendedAt = hotBytes;
        await Promise.all(quiet.map((q, i) => appendFile(q, `quiet ${i} round ${round}\n`)));
        // Bounded: a reader that starves the quiet files fails here instead of waiting for the whole backlog.
        while (quietSeen.length < 4 * (round + 1) && hotBytes - appendedAt <= 64 * chunk) await readSome();
        lags.push(hotBytes - appendedAt);
      }
      expect(quietSeen.sort()).toEqual(
        [0, 1, 2].flatMap((round) => [0, 1, 2, 3].map((i) => `quiet ${i} round ${round}`)).sort(),
      );
      // Each turn reads at most one chunk of the hot file: the quiet lines wait for a handful of turns, never for the
      // 8 MiB backlog. (Lines already queued when they were appended count too: up to 256 logs plus a chunk.)
      for (const lag of lags) expect(lag).toBeLessThanOrEqual(8 * chunk);
      expect(hotBytes).toBeLessThan(4 * 2 ** 20);
    } finally {
      writer.kill();
    }
  });
});
