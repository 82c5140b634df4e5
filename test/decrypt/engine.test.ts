// DecryptEngine against the real emulators: per-shard order, one KMS Decrypt per data key, filters, raw bytes,
// following new data, a shard handed back after stopShard, and a slow sink that bounds the work in flight.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataKeyRing, DecryptEngine, parseWhere, type ReadView } from '../../agent/decrypt/index.js';
import type { LogGroup } from '../../agent/wire/loggroup.js';
import { startWorld, waitFor, type World } from '../helpers/e2e.js';
import { FIRST_SHARD, LAST_SHARD, makeGroups, shipGroups, shipper, type Shipper } from '../helpers/sealed.js';

let world: World;
let s: Shipper;

beforeAll(async () => {
  world = await startWorld();
  s = shipper(world);
});

afterAll(async () => {
  await s?.close();
  await world?.close();
});

class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  lines(): Array<{ shard?: number; contents: Record<string, string>; tags: Record<string, string>; topic: string }> {
    return this.bytes.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }
}

interface Setup {
  engine: DecryptEngine;
  ring: DataKeyRing;
  decrypts: () => number;
}

function engineFor(logstore: string, view: ReadView, out: NodeJS.WritableStream, extra: Partial<ConstructorParameters<typeof DecryptEngine>[0]> = {}): Setup {
  let calls = 0;
  const kms = { decrypt: (blob: string, ctx: Record<string, string>) => (calls++, s.kms.decrypt(blob, ctx)) };
  const ring = new DataKeyRing(kms, world.project, logstore);
  const engine = new DecryptEngine({ sls: s.sls, keys: ring, project: world.project, view, out, threads: 2, pullCount: 2, ...extra });
  return { engine, ring, decrypts: () => calls };
}

async function readAll(logstore: string, view: ReadView, out: NodeJS.WritableStream, extra: Partial<ConstructorParameters<typeof DecryptEngine>[0]> = {}): Promise<Setup> {
  const setup = engineFor(logstore, view, out, extra);
  try {
    for (const { shardID } of await s.sls.listShards(logstore)) {
      setup.engine.startShard({ logstore, shard: shardID, from: await s.sls.getCursor(logstore, shardID, 'begin'), to: await s.sls.getCursor(logstore, shardID, 'end') });
    }
    await setup.engine.finished();
  } finally {
    await setup.engine.close();
    setup.ring.close();
  }
  return setup;
}

describe('DecryptEngine', () => {
  it('keeps each shard in order and makes one KMS Decrypt per data key', async () => {
    const logstore = 'eng-order';
    await s.sls.createLogstore({ logstoreName: logstore, ttl: 7, shardCount: 2 });
    const a = makeGroups('a', 12, 20);
    const b = makeGroups('b', 12, 20);
    // 240 logs per shard, a new key every 60 logs: 4 keys per shard, 8 in all.
    await Promise.all([
      shipGroups(s, world, logstore, a, { hashKey: FIRST_SHARD, keyEvery: 60 }),
      shipGroups(s, world, logstore, b, { hashKey: LAST_SHARD, keyEvery: 60, algorithm: 'SM4_128_GCM', mode: 'log', zip: 'none' }),
    ]);
    const before = world.emulators.kms.stats().byAction.Decrypt ?? 0;
    const out = new Collect();
    const { engine, decrypts } = await readAll(logstore, { format: 'ndjson' }, out);
    const contents = out.lines().map((l) => l.contents.content!);
    const want = (g: LogGroup[]) => g.flatMap((x) => x.logs.map((l) => l.contents[0]!.value as string));
    expect(contents.filter((c) => c.startsWith('a '))).toEqual(want(a));
    expect(contents.filter((c) => c.startsWith('b '))).toEqual(want(b));
    expect(contents).toHaveLength(480);
    expect(decrypts()).toBe(8);
    expect((world.emulators.kms.stats().byAction.Decrypt ?? 0) - before).toBe(8);
    expect(engine.stats.lines).toBe(480);
  });

  it('writes from its reused output memory to a sink that copies on write, and copies for one that keeps chunks', async () => {
    const logstore = 'eng-reuse';
    await s.sls.createLogstore({ logstoreName: logstore, ttl: 7, shardCount: 2 });
    const a = makeGroups('r', 40, 25);
    await Promise.all([shipGroups(s, world, logstore, a.slice(0, 20), { hashKey: FIRST_SHARD }), shipGroups(s, world, logstore, a.slice(20), { hashKey: LAST_SHARD })]);
    // A sink like a pipe or a file: the bytes are taken by the time it calls back, a little later.
    const copied: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const copying = new Writable({
      write(chunk: Buffer, _enc, cb) {
        buffers.add(chunk.buffer);
        setImmediate(() => (copied.push(Buffer.from(chunk)), cb()));
      },
    });
    await readAll(logstore, { format: 'ndjson' }, copying, { outCopiesOnCallback: true, maxInFlight: 2 });
    const keeping = new Collect();
    await readAll(logstore, { format: 'ndjson' }, keeping, { maxInFlight: 2 });
    const lines = (b: Buffer) => b.toString('utf8').split('\n').filter(Boolean).sort();
    expect(lines(Buffer.concat(copied))).toEqual(lines(keeping.bytes));
    expect(lines(keeping.bytes)).toHaveLength(1000);
    // 20 pages per shard went through two pieces of shared memory.
    expect(buffers.size).toBeLessThanOrEqual(2);
    expect([...buffers].every((b) => b instanceof SharedArrayBuffer)).toBe(true);
  });

  it('applies the view: time window, topic, tag and --where', async () => {
    const logstore = 'eng-filter';
    await s.sls.createLogstore({ logstoreName: logstore, ttl: 7, shardCount: 1 });
    await shipGroups(s, world, logstore, [...makeGroups('f', 4, 9), ...makeGroups('g', 2, 9, 'other')]);
    const view: ReadView = {
      format: 'ndjson',
      fromTime: 1_700_000_001,
      toTime: 1_700_000_003,
      topic: 'topic-f',
      tags: [['env', 'dev']],
      where: parseWhere('level = "ERROR" or status >= 500'),
    };
    const out = new Collect();
    await readAll(logstore, view, out);
    // Group 1 only (time 1_700_000_001, env dev; group 2 is prod); logs i % 3 = 0 (ERROR) or 2 (503).
    expect(out.lines().map((l) => l.contents.content)).toEqual(['f 1.0', 'f 1.2', 'f 1.3', 'f 1.5', 'f 1.6', 'f 1.8']);
    const count = await readAll(logstore, { ...view, format: 'count' }, new Collect());
    expect(count.engine.stats.lines).toBe(6);
  });

  it('writes raw content byte for byte, invalid UTF-8 included', async () => {
    const logstore = 'eng-raw';
    await s.sls.createLogstore({ logstoreName: logstore, ttl: 7, shardCount: 1 });
    const odd = Uint8Array.from([0x61, 0xff, 0xfe, 0x62, 0xc3, 0x28, 0x0d]);
    const group: LogGroup = {
      logTags: [],
      logs: [
        { time: 1_700_000_000, contents: [{ key: 'content', value: 'plain "quoted" \\ line' }] },
        { time: 1_700_000_000, contents: [{ key: 'content', value: odd }] },
        { time: 1_700_000_000, contents: [{ key: 'content', value: 'ünïcødé ✓' }] },
      ],
    };
    for (const mode of ['group', 'log'] as const) {
      const ls = `${logstore}-${mode}`;
      await s.sls.createLogstore({ logstoreName: ls, ttl: 7, shardCount: 1 });
      await shipGroups(s, world, ls, [group], { mode, zip: mode === 'group' ? 'lz4' : 'none' });
      const out = new Collect();
      await readAll(ls, { format: 'raw' }, out);
      expect(out.bytes.equals(Buffer.concat([Buffer.from('plain "quoted" \\ line\n'), odd, Buffer.from('\nünïcødé ✓\n')]))).toBe(true);
    }
  });

  it('follows a shard: picks up data put after it started, and stops at the cursor it wrote up to', async () => {
    const logstore = 'eng-follow';
    await s.sls.createLogstore({ logstoreName: logstore, ttl: 7, shardCount: 1 });
    await shipGroups(s, world, logstore, makeGroups('old', 1, 3));
    const out = new Collect();
    const { engine, ring } = engineFor(logstore, { format: 'ndjson' }, out, { followIntervalMs: 20 });
    const written: string[] = [];
    engine.startShard({ logstore, shard: 0, from: await s.sls.getCursor(logstore, 0, 'begin') }, (c) => written.push(c));
    await waitFor('the first data', () => out.lines().length === 3);
    await shipGroups(s, world, logstore, makeGroups('new', 2, 3));
    await waitFor('the new data', () => out.lines().length === 9);
    const resume = await engine.stopShard(0);
    expect(resume).toBe(await s.sls.getCursor(logstore, 0, 'end'));
    expect(written.at(-1)).toBe(resume);
    await engine.close();
    ring.close();
    expect(out.lines().map((l) => l.contents.content)).toEqual(['old 0.0', 'old 0.1', 'old 0.2', 'new 0.0', 'new 0.1', 'new 0.2', 'new 1.0', 'new 1.1', 'new 1.2']);
  });

  it('bounds the pages in flight when the sink is slow', async () => {
    const logstore = 'eng-slow';
    await s.sls.createLogstore({ logstoreName: logstore, ttl: 7, shardCount: 2 });
    await Promise.all([
      shipGroups(s, world, logstore, makeGroups('x', 20, 50), { hashKey: FIRST_SHARD }),
      shipGroups(s, world, logstore, makeGroups('y', 20, 50), { hashKey: LAST_SHARD }),
    ]);
    // A sink that takes one chunk and then holds its callback until the test lets it go.
    const held: Array<() => void> = [];
    let received = 0;
    const slow = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        received++;
        held.push(cb);
      },
    });
    const limit = 3;
    const { engine, ring } = engineFor(logstore, { format: 'ndjson' }, slow, { pullCount: 1, maxInFlight: limit, maxInFlightPerShard: 2 });
    for (const shard of [0, 1]) {
      engine.startShard({ logstore, shard, from: await s.sls.getCursor(logstore, shard, 'begin'), to: await s.sls.getCursor(logstore, shard, 'end') });
    }
    const done = engine.finished();
    let releases = 0;
    while (received < 40) {
      await waitFor('a write', () => held.length > 0, 30_000, 5);
      // The sink holds a chunk: no more than `limit` pages are pulled and not yet written.
      expect(engine.stats.inFlight).toBeLessThanOrEqual(limit);
      expect(engine.stats.pages - releases).toBeLessThanOrEqual(limit);
      held.shift()!();
      releases++;
    }
    await done;
    await engine.close();
    ring.close();
    expect(engine.stats.pages).toBe(40);
    expect(engine.stats.peakInFlight).toBeLessThanOrEqual(limit);
  });

  // A shard stopped and handed back later (as a consumer group does) starts again where it stopped.
  it('restarts a stopped shard from the cursor stopShard resolved, printing every line once', async () => {
    const logstore = 'eng-handback';
    await s.sls.createLogstore({ logstoreName: logstore, ttl: 7, shardCount: 1 });
    await shipGroups(s, world, logstore, makeGroups('first', 2, 3));
    const chunks: Buffer[] = [];
    const out = new Writable({ write: (chunk: Buffer, _enc, cb) => (chunks.push(chunk), cb()) });
    const lines = () => Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
    const ring = new DataKeyRing(s.kms, world.project, logstore);
    const engine = new DecryptEngine({ sls: s.sls, keys: ring, project: world.project, view: { format: 'raw' }, out, threads: 1, followIntervalMs: 20 });
    try {
      engine.startShard({ logstore, shard: 0, from: await s.sls.getCursor(logstore, 0, 'begin') });
      await waitFor('the first data', () => lines().length === 6);
      const stoppedAt = await engine.stopShard(0);
      await shipGroups(s, world, logstore, makeGroups('second', 1, 3));
      engine.startShard({ logstore, shard: 0, from: stoppedAt! });
      await waitFor('the data put while it was stopped', () => lines().length === 9);
      expect(lines()).toEqual(['first 0.0', 'first 0.1', 'first 0.2', 'first 1.0', 'first 1.1', 'first 1.2', 'second 0.0', 'second 0.1', 'second 0.2']);
    } finally {
      await engine.close();
      ring.close();
    }
  });
});
