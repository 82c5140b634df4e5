// widenPipe: the capacity `logseal decrypt` asks for its stdout when that is a pipe; anything else is left alone.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAddon } from '../../agent/native/addon.js';
import { widenPipe } from '../../agent/native/pipe-size.js';

const dir = mkdtempSync(join(tmpdir(), 'pipe-size-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!nativeAddon?.setPipeSize || process.platform !== 'linux')('widenPipe', () => {
  it('sets a pipe to the capacity asked (in whole pages) and reports it', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const fd = openSync(fifo, 'r+'); // read and write: Linux opens a FIFO so without waiting for the other end
    try {
      expect(widenPipe(fd, 1 << 20)).toBe(1 << 20);
      expect(widenPipe(fd, 5000)).toBe(8192);
    } finally {
      closeSync(fd);
    }
  });

  it('leaves what is not a pipe, and refuses what is not a size', () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const fd = openSync(file, 'r');
    try {
      expect(widenPipe(fd, 1 << 20)).toBe(-1);
    } finally {
      closeSync(fd);
    }
    expect(() => widenPipe(-1, 4096)).toThrow(TypeError);
    expect(() => widenPipe(1, 0)).toThrow(TypeError);
  });
});
