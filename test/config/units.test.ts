// Duration and size units of the config file.
import { describe, expect, it } from 'vitest';
import { formatDuration, formatSize, parseDuration, parseSize } from '../../agent/config/units.js';

describe('durations', () => {
  it.each([
    ['500ms', 500], ['30s', 30_000], ['5m', 300_000], ['1h', 3_600_000], ['1.5s', 1500], [' 2s ', 2000], ['0', 0], [0, 0],
  ] as const)('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['30', 30, '5 minutes', '1d', '-1s', 's', '', '1e3ms', true, null, undefined])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formats the shortest exact unit', () => {
    expect([300_000, 1500, 3_600_000, 0, 30_000].map(formatDuration)).toEqual(['5m', '1500ms', '1h', '0ms', '30s']);
  });
});

describe('sizes', () => {
  it.each([
    ['512KiB', 512 * 1024], ['64MiB', 64 * 2 ** 20], ['1GiB', 2 ** 30], ['1000', 1000], [1000, 1000], ['1KB', 1000],
    ['5MB', 5_000_000], ['2GB', 2e9], ['1mib', 2 ** 20], ['10 B', 10], ['1.5KiB', 1536], ['64GiB', 64 * 2 ** 30],
  ] as const)('%j is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['1XB', '-5', -5, 1.5, 'MiB', '', 'ten', true, null])('rejects %j', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });

  it('formats the shortest exact binary unit', () => {
    expect([2 ** 20, 5 * 2 ** 20, 1000, 1536, 2 ** 30].map(formatSize)).toEqual(['1MiB', '5MiB', '1000', '1536', '1GiB']);
  });
});
