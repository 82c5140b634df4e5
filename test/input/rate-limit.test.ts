// inputs[].rateLimit: token buckets on lines and bytes; reading pauses, nothing is dropped.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../agent/input/rate-limit.js';
import { entriesOf, FAST, offsetsGrowPerFile, useInputFixture, valueText, type Entry } from './harness.js';

const fixture = useInputFixture();
const harness = fixture.harness;

describe('RateLimiter', () => {
  it('sizes reads to the byte tokens left and waits when they are spent', () => {
    let now = 0;
    const r = new RateLimiter({ bytesPerSecond: 100_000 }, () => now);
    expect(r.readBytes(512 * 1024)).toBe(100_000); // one second of burst
    r.charge(10, 100_000);
    expect(r.readBytes(512 * 1024)).toBe(0);
    expect(r.msUntilReady()).toBeCloseTo(40.96, 1); // the bytes of a minimal read (4 KiB)
    now += 500;
    expect(r.readBytes(512 * 1024)).toBe(50_000);
    expect(r.limitedMs).toBe(500);
  });

  it('lets lines go into debt that refills repay before the next read', () => {
    let now = 0;
    const r = new RateLimiter({ linesPerSecond: 1000 }, () => now);
    expect(r.readBytes(4096)).toBe(4096);
    r.charge(3000, 4096); // a chunk held more lines than there were tokens
    expect(r.readBytes(4096)).toBe(0);
    expect(r.msUntilReady()).toBeCloseTo(2001, 0);
    now += 2001;
    expect(r.readBytes(4096)).toBe(4096);
  });
});

describe('FileInput: rateLimit', () => {
  const line = (i: number) => `line ${String(i).padStart(5, '0')} ${'x'.repeat(80)}`;

  it('reads no more than the byte burst at first, then the rest in order once tokens refill', async () => {
    const file = path.join(fixture.dir, 'noisy.log');
    const lines = Array.from({ length: 700 }, (_, i) => line(i)); // 64 KiB
    await writeFile(file, `${lines.join('\n')}\n`);
    const h = harness([{ paths: [file], startAt: 'beginning', rateLimit: { bytesPerSecond: 32 * 1024 }, ...FAST }], { consume: false });
    const first = (await h.input.read(100_000)).flatMap(entriesOf);
    expect(first.at(-1)!.endOffset).toBeLessThanOrEqual(32 * 1024);
    const got = first.map((e) => valueText(e.log.contents[0].value));
    while (got.length < lines.length) for (const run of await h.input.read(100_000)) got.push(...entriesOf(run).map((e) => valueText(e.log.contents[0].value)));
    expect(got).toEqual(lines);
    expect(h.input.stats()[0].rateLimitedMs).toBeGreaterThan(0);
  });

  it('holds an input to its lines per second: no faster than the tokens allow, and nothing dropped', async () => {
    const file = path.join(fixture.dir, 'chatty.log');
    const lines = Array.from({ length: 2500 }, (_, i) => `line ${String(i).padStart(6, '0')} of many`); // 20 bytes each
    await writeFile(file, `${lines.join('\n')}\n`);
    const h = harness([{ paths: [file], startAt: 'beginning', rateLimit: { linesPerSecond: 1000 }, ...FAST }], { consume: false, readChunkBytes: 4096 });
    const started = performance.now();
    const got: string[] = [];
    while (got.length < lines.length) for (const run of await h.input.read(100_000)) got.push(...entriesOf(run).map((e) => valueText(e.log.contents[0].value)));
    expect(got).toEqual(lines);
    // A lower bound only (a slow machine can only take longer): 1000 lines of burst, one 4 KiB chunk (~200 lines)
    // read past the tokens, the remaining 1300 at 1000/s.
    expect(performance.now() - started).toBeGreaterThanOrEqual(1300);
    expect(h.input.stats()[0].rateLimitedMs).toBeGreaterThan(900);
  });

  it('holds across more files than maxOpenFiles: every line once, in order per file', async () => {
    const files = Array.from({ length: 20 }, (_, f) => path.join(fixture.dir, `f${f}.log`));
    const want = files.map((_, f) => Array.from({ length: 100 }, (_, i) => `f${f} line ${i}`));
    await Promise.all(files.map((p, f) => writeFile(p, `${want[f].join('\n')}\n`)));
    const h = harness([{ paths: [path.join(fixture.dir, '*.log')], startAt: 'beginning', rateLimit: { linesPerSecond: 1000 }, ...FAST }], {
      consume: false,
      maxOpenFiles: 4,
    });
    const entries: Entry[] = [];
    while (entries.length < 2000) for (const run of await h.input.read(100_000)) entries.push(...entriesOf(run));
    const texts = entries.map((e) => valueText(e.log.contents[0].value));
    expect(texts.sort()).toEqual(want.flat().sort());
    expect(offsetsGrowPerFile(entries)).toBe(true);
    expect(h.input.stats()[0].rateLimitedMs).toBeGreaterThan(0);
  });
});
