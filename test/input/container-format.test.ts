// Container logs: CRI and Docker json-file lines decoded, partial lines joined, kubelet's paths read for metadata.
import { readdirSync, readlinkSync } from 'node:fs';
import { appendFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ContainerDecoder, type LineStamp } from '../../agent/input/container-format.js';
import { InputConfigError, FileInput } from '../../agent/input/index.js';
import { contentOf, FAST, tagOf, until, useInputFixture, type Entry } from './harness.js';

const fixture = useInputFixture();
const harness = fixture.harness;

type Out = { text: string; endOffset: number; stamp?: LineStamp; marker?: string; reason?: string };

/** Feeds physical lines to a decoder as the framer would, with their end offsets. */
function decode(format: 'cri' | 'docker' | 'auto', lines: string[], maxLineBytes = 1 << 20): { out: Out[]; decoder: ContainerDecoder } {
  const out: Out[] = [];
  const decoder = new ContainerDecoder(format, maxLineBytes, {
    line: (buf, s, e, endOffset, stamp, marker) => out.push({ text: buf.toString("utf8", s, e), endOffset, stamp: { ...stamp }, ...(marker ? { marker } : {}) }),
    malformed: (buf, s, e, endOffset, reason) => out.push({ text: buf.toString('utf8', s, e), endOffset, reason }),
  });
  let offset = 0;
  for (const line of lines) {
    const buf = Buffer.from(`${line}\n`);
    offset += buf.length;
    // As the framer does: without the \n, and without one \r before it.
    decoder.line(buf, 0, buf.length - (line.endsWith('\r') ? 2 : 1), offset);
  }
  return { out, decoder };
}

const T = '2016-10-06T00:17:09.669794202Z';
const T_SECONDS = Date.parse('2016-10-06T00:17:09Z') / 1000;

function field(e: Entry, key: string): string | undefined {
  return contentOf(e, key);
}

describe('ContainerDecoder: CRI', () => {
  it('decodes time, stream and log, and joins P fragments up to the F line', () => {
    const lines = [`${T} stdout F hello world`, `${T} stderr P part one, `, `2016-10-06T00:17:10.5Z stderr P part two, `, `${T} stderr F end`, `${T} stdout F `];
    const { out, decoder } = decode('cri', lines);
    expect(out.map((o) => o.text)).toEqual(['hello world', 'part one, part two, end', '']);
    expect(out[0].stamp).toEqual({ time: T_SECONDS, timeNs: 669794202, stream: 'stdout' });
    // A joined line has the time of its first fragment and the offset after its F line.
    expect(out[1].stamp).toEqual({ time: T_SECONDS, timeNs: 669794202, stream: 'stderr' });
    const ends = lines.map((_, i) => lines.slice(0, i + 1).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0));
    expect(out.map((o) => o.endOffset)).toEqual([ends[0], ends[3], ends[4]]);
    expect(decoder.malformed).toBe(0);
  });

  it('accepts time zone offsets and further tags after P/F', () => {
    const { out } = decode('cri', ['2016-10-06T08:17:09+08:00 stdout F:x y', '2016-10-06T08:17:09.1+08:00 stdout F z']);
    expect(out.map((o) => [o.text, o.stamp?.time, o.stamp?.timeNs])).toEqual([
      ['y', T_SECONDS, 0],
      ['z', T_SECONDS, 100_000_000],
    ]);
  });

  it('reads times across seconds, minutes, days and zones as Date.parse does', () => {
    let seed = 7;
    const times: string[] = [];
    let t = Date.parse('2023-12-31T23:58:30Z');
    for (let i = 0; i < 500; i++) {
      seed = (seed * 48271) % 2147483647;
      t += (seed % 5000) * 37; // steps of up to ~3 minutes, so minutes and days roll over
      const zone = i % 100 < 50 ? 'Z' : '+08:00';
      const shifted = new Date(t + (zone === 'Z' ? 0 : 8 * 3_600_000)).toISOString().slice(0, 19);
      times.push(`${shifted}.${String(seed % 1e9).padStart(9, '0')}${zone}`);
    }
    const { out } = decode('cri', times.map((x) => `${x} stdout F x`));
    expect(out.map((o) => [o.stamp!.time, o.stamp!.timeNs])).toEqual(times.map((x) => [Math.floor(Date.parse(x) / 1000), Number(x.slice(20, 29))]));
  });

  it('ships lines that are not CRI as they are, counted, after emitting a pending partial line', () => {
    const { out, decoder } = decode('cri', [`${T} stdout P half`, 'plain text', `${T} stdout X bad tag`, `not-a-time stdout F x`, `${T} stdin F x`]);
    expect(out.map((o) => [o.text, o.reason])).toEqual([
      ['half', undefined],
      ['plain text', 'not a CRI log line'],
      [`${T} stdout X bad tag`, 'not a CRI log line'],
      ['not-a-time stdout F x', 'not a CRI log line'],
      [`${T} stdin F x`, 'not a CRI log line'],
    ]);
    expect(decoder.malformed).toBe(4);
  });

  it('splits a partial sequence that outgrows maxLineBytes at fragment boundaries, marking the pieces', () => {
    const frag = 'x'.repeat(100);
    const lines = [...Array.from({ length: 5 }, () => `${T} stdout P ${frag}`), `${T} stdout F tail`];
    const { out } = decode('cri', lines, 250);
    expect(out.map((o) => [o.text.length, o.marker])).toEqual([
      [200, '1/?'],
      [200, '2/?'],
      [104, '3/3'],
    ]);
    const ends = lines.map((_, i) => lines.slice(0, i + 1).reduce((n, l) => n + l.length + 1, 0));
    expect(out.map((o) => o.endOffset)).toEqual([ends[1], ends[3], ends[5]]);
  });

  it('emits a pending partial line as it is on flush (the file is done)', () => {
    const { out, decoder } = decode('cri', [`${T} stdout P never `, `${T} stdout P finished`]);
    expect(out).toEqual([]);
    decoder.flush();
    expect(out.map((o) => o.text)).toEqual(['never finished']);
  });
});

describe('ContainerDecoder: Docker json-file', () => {
  const rec = (log: string, stream = 'stdout', time = T) => JSON.stringify({ log, stream, time });

  it('decodes records and joins those whose log does not end with a newline', () => {
    const { out, decoder } = decode('docker', [rec('hello\n'), rec('a'.repeat(10), 'stderr'), rec('b\n', 'stderr'), rec('crlf\r\n'), rec('\n')]);
    expect(out.map((o) => [o.text, o.stamp?.stream])).toEqual([
      ['hello', 'stdout'],
      [`${'a'.repeat(10)}b`, 'stderr'],
      ['crlf', 'stdout'],
      ['', 'stdout'],
    ]);
    expect(out[0].stamp?.timeNs).toBe(669794202);
    expect(decoder.malformed).toBe(0);
  });

  it('ships records it cannot read as they are, counted', () => {
    const { out, decoder } = decode('docker', ['{"log":"x\\n","stream":"stdout"}', '{broken', '[1]', rec('ok\n')]);
    expect(out.map((o) => o.reason ?? o.text)).toEqual(['not a Docker json-file record', 'not a Docker json-file record', 'not a Docker json-file record', 'ok']);
    expect(decoder.malformed).toBe(3);
  });
});

describe('ContainerDecoder: auto', () => {
  it('decides per file from its first line', () => {
    expect(decode('auto', [JSON.stringify({ log: 'j\n', stream: 'stdout', time: T })]).decoder.detected).toBe('docker');
    expect(decode('auto', [`${T} stdout F c`]).decoder.detected).toBe('cri');
  });
});

/** kubelet's layout under `root`: the pod's log file and its /var/log/containers symlink. */
async function podLog(root: string, o: { ns: string; pod: string; container: string; text: string }): Promise<{ file: string; link: string }> {
  const dir = path.join(root, 'pods', `${o.ns}_${o.pod}_0f9a6b52-3c2d-4e1f-9a8b-7c6d5e4f3a2b`, o.container);
  await mkdir(dir, { recursive: true });
  await mkdir(path.join(root, 'containers'), { recursive: true });
  const file = path.join(dir, '0.log');
  await writeFile(file, o.text);
  const link = path.join(root, 'containers', `${o.pod}_${o.ns}_${o.container}-${'ab'.repeat(32)}.log`);
  await symlink(file, link);
  return { file, link };
}

describe('FileInput: container logs', () => {
  it('reads kubelet files once through both globs, with metadata from the path as fields', async () => {
    const cri = `${T} stdout F one\n${T} stderr P two-a \n${T} stderr F two-b\n`;
    const docker = `${JSON.stringify({ log: 'three\n', stream: 'stdout', time: T })}\n`;
    await podLog(fixture.dir, { ns: 'shop', pod: 'web-7d9f8-x2x4k', container: 'nginx', text: cri });
    await podLog(fixture.dir, { ns: 'kube-system', pod: 'dns-0', container: 'coredns', text: docker });
    const globs = [path.join(fixture.dir, 'pods/*/*/*.log'), path.join(fixture.dir, 'containers/*.log')];
    const h = harness([{ paths: globs, format: 'auto', ...FAST }]);
    await h.waitForLines(3);
    await h.waitForEvent('opened', 2);
    // Each file has two names that both match; dev+ino makes it one file, read once.
    expect(h.eventsOf('opened')).toHaveLength(2);
    const byText = new Map(h.entries.map((e) => [contentOf(e), e]));
    expect([...byText.keys()].sort()).toEqual(['one', 'three', 'two-a two-b']);
    expect(h.entries).toHaveLength(3);
    const two = byText.get('two-a two-b')!;
    expect([field(two, '_stream_'), field(two, '_namespace_'), field(two, '_pod_name_'), field(two, '_container_name_')]).toEqual([
      'stderr',
      'shop',
      'web-7d9f8-x2x4k',
      'nginx',
    ]);
    expect([two.log.time, two.log.timeNs]).toEqual([T_SECONDS, 669794202]);
    expect(field(byText.get('three')!, '_namespace_')).toBe('kube-system');
    expect(h.input.files().find((f) => f.fileId === two.fileId)?.offset).toBe(Buffer.byteLength(cri));
    expect(h.input.stats()).toEqual([{ malformedLines: 0, rateLimitedMs: 0 }]);
  });

  it('puts the metadata into tags when configured, and runs the content through the parser', async () => {
    await podLog(fixture.dir, { ns: 'shop', pod: 'api-0', container: 'app', text: `${T} stdout F {"level":"info","msg":"hi"}\n` });
    const h = harness([{ paths: [path.join(fixture.dir, 'containers/*.log')], format: 'cri', containerMetadata: 'tags', parser: { type: 'json' }, ...FAST }]);
    await h.waitForLines(1);
    const [e] = h.entries;
    expect([field(e, 'level'), field(e, 'msg'), field(e, '_stream_'), field(e, '_namespace_')]).toEqual(['info', 'hi', 'stdout', undefined]);
    expect([tagOf(e, '_namespace_'), tagOf(e, '_pod_name_'), tagOf(e, '_container_name_')]).toEqual(['shop', 'api-0', 'app']);
  });

  it('ships malformed lines and counts them per input', async () => {
    const file = path.join(fixture.dir, 'x.log');
    await writeFile(file, `${T} stdout F fine\ngarbage\n`);
    const h = harness([{ paths: [file], format: 'cri', ...FAST }]);
    await h.waitForLines(2);
    expect(h.entries.map((e) => [contentOf(e), field(e, '__parse_error__')])).toEqual([
      ['fine', undefined],
      ['garbage', 'not a CRI log line'],
    ]);
    expect(h.input.stats()[0].malformedLines).toBe(1);
  });

  it('never checkpoints inside a partial sequence: a restart re-reads its fragments and emits the line once', async () => {
    const file = path.join(fixture.dir, 'c.log');
    await writeFile(file, `${T} stdout F first\n${T} stdout P begun `);
    await appendFile(file, `\n${T} stdout P still `);
    await appendFile(file, '\n');
    const h1 = harness([{ paths: [file], format: 'cri', ...FAST }]);
    await h1.waitForLines(1);
    // The file is one read: its fragments were consumed with 'first', yet only 'first' is out, and the checkpoint
    // stays before the partial sequence.
    expect(h1.texts()).toEqual(['first']);
    const saved = h1.checkpoints();
    expect([...saved.values()][0].offset).toBe(Buffer.byteLength(`${T} stdout F first\n`));
    await h1.close();
    await appendFile(file, `${T} stdout F done\n${T} stdout F next\n`);
    const h2 = harness([{ paths: [file], format: 'cri', ...FAST }], { checkpoints: saved });
    await h2.waitForLines(2);
    expect(h2.texts()).toEqual(['begun still done', 'next']);
  });

  it('loses and repeats nothing when a restart falls between the pieces of a split partial line', async () => {
    const file = path.join(fixture.dir, 's.log');
    const frags = Array.from({ length: 5 }, (_, i) => String(i).repeat(100));
    await writeFile(file, frags.slice(0, 3).map((f) => `${T} stdout P ${f}\n`).join(''));
    const h1 = harness([{ paths: [file], format: 'cri', maxLineBytes: 250, ...FAST }]);
    await h1.waitForLines(1);
    expect(h1.entries.map((e) => [contentOf(e), field(e, '__split__')])).toEqual([[frags[0] + frags[1], '1/?']]);
    const saved = h1.checkpoints();
    await h1.close();
    await appendFile(file, `${frags.slice(3).map((f) => `${T} stdout P ${f}\n`).join('')}${T} stdout F end\n`);
    const h2 = harness([{ paths: [file], format: 'cri', maxLineBytes: 250, ...FAST }], { checkpoints: saved });
    await h2.waitForLines(2);
    expect(h2.entries.map((e) => [contentOf(e), field(e, '__split__')])).toEqual([
      [frags[2] + frags[3], '1/?'],
      [`${frags[4]}end`, '2/2'],
    ]);
  });

  it('frames CRI lines natively exactly as the JS decoder does, on random valid and invalid lines', async () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    const pick = <T,>(xs: T[]): T => xs[rnd(xs.length)];
    const two = (n: number) => String(n).padStart(2, '0');
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const day = `${pick(['1969', '1970', '2024', '2023', '2100'])}-${two(pick([1, 2, 2, 12, 13]))}-${two(pick([1, 28, 29, 30, 31]))}`;
      const clock = `${two(pick([0, 13, 23, 24]))}:${two(pick([0, 59, 60]))}:${two(pick([0, 7, 59, 60]))}`;
      const fraction = pick(['', '.', '.5', '.123456789', '.1234567891', `.${rnd(1e6)}`]);
      const zone = pick(['Z', 'Z', '+08:00', '-05:30', '+24:00', 'z', '']);
      const head = pick([`${day}T${clock}${fraction}${zone}`, `${day} ${clock}`, 'garbage']);
      const stream = pick(['stdout', 'stderr', 'stdout', 'stdin']);
      const tag = pick(['F', 'F', 'F', 'P', 'F:x', 'Fx', 'X', '']);
      const text = pick(['', 'hello', 'a b  c', 'ünïcödé', `x${'y'.repeat(rnd(200))}`]);
      const cr = pick(['', '', '\r']);
      if (rnd(10) < 6) {
        // A valid line: any time from 1970 to 2105 in any zone, with 0 to 9 fraction digits.
        const t = new Date(rnd(4_300_000) * 1_000_000 + rnd(1_000_000)).toISOString().slice(0, 19);
        const digits = rnd(10);
        const valid = `${t}${digits ? `.${String(rnd(1e9)).padStart(9, '0').slice(0, digits)}` : ''}${pick(['Z', '+08:00', '-03:30'])}`;
        lines.push(`${valid} ${pick(['stdout', 'stderr'])} ${pick(['F', 'F', 'F:x', 'P'])} ${text}${cr}`);
      } else {
        lines.push(pick([`${head} ${stream} ${tag} ${text}${cr}`, `${head} ${stream} ${tag}${cr}`, `${head} ${stream}`]));
      }
    }
    const file = path.join(fixture.dir, 'random.log');
    await writeFile(file, `${lines.join('\n')}\n`);
    // The expected logs: the JS decoder alone.
    const { out } = decode('cri', lines);
    // Enough of both kinds: complete lines (natively framed when the addon is built) and the rest, which stop it.
    expect(out.filter((o) => o.stamp && !o.marker).length).toBeGreaterThan(300);
    expect(out.filter((o) => o.reason).length).toBeGreaterThan(300);
    const h = harness([{ paths: [file], format: 'cri', ...FAST }], { readChunkBytes: 4096 });
    await h.waitForLines(out.length);
    const got = h.entries.map((e) => [contentOf(e), field(e, '_stream_'), field(e, '__parse_error__'), e.log.time, e.log.timeNs, e.endOffset]);
    const want = out.map((o) => [o.text, o.stamp?.stream, o.reason, o.stamp?.time, o.stamp?.timeNs, o.endOffset]);
    for (let i = 0; i < want.length; i++) {
      // Malformed lines carry the time they were read; only their content and reason are compared.
      if (want[i][2] !== undefined) {
        got[i][3] = want[i][3];
        got[i][4] = want[i][4];
      }
    }
    expect(got).toEqual(want);
  });

  it('rejects multiline together with a container format', () => {
    expect(() => new FileInput([{ paths: ['/x/*.log'], format: 'cri', multiline: { startPattern: '^\\S', flushTimeoutMs: 1000 } }], { checkpoints: new Map() })).toThrow(
      InputConfigError,
    );
  });
});

/** Descriptors this process holds on `file`. */
function fdsOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // Closed between the listing and the readlink.
    }
  }
  return n;
}

describe('FileInput: container logs with closeInactive and gzip', () => {
  it('keeps a partial sequence across closing an idle file and reopening it: the line comes out once, joined', async () => {
    const file = path.join(fixture.dir, 'c.log');
    await writeFile(file, `${T} stdout F one\n${T} stdout P two-a \n`);
    const h = harness([{ paths: [file], format: 'cri', closeInactiveMs: 100, ...FAST }]);
    await h.waitForLines(1);
    await until(() => fdsOn(file) === 0, 'the idle file to be closed');
    await appendFile(file, `${T} stdout F two-b\n`);
    await h.waitForLines(2);
    expect(h.texts()).toEqual(['one', 'two-a two-b']);
    expect(new Set(h.entries.map((e) => e.fileId)).size).toBe(1);
    expect(h.input.files()[0].offset).toBe(Buffer.byteLength(`${T} stdout F one\n${T} stdout P two-a \n${T} stdout F two-b\n`));
  });

  it('decodes a compressed CRI file, its last partial line emitted once the stream is complete', async () => {
    const text = `${T} stdout F one\n${T} stderr P two-a \n${T} stderr F two-b\n${T} stdout P never \n${T} stdout P finished\n`;
    await writeFile(path.join(fixture.dir, '0.log.1.gz'), gzipSync(text));
    const h = harness([{ paths: [path.join(fixture.dir, '*.gz')], format: 'cri', ...FAST }]);
    await h.waitForLines(3);
    expect(h.texts()).toEqual(['one', 'two-a two-b', 'never finished']);
    expect(h.entries.map((e) => field(e, '_stream_'))).toEqual(['stdout', 'stderr', 'stdout']);
    expect(h.input.stats()[0].malformedLines).toBe(0);
  });
});
