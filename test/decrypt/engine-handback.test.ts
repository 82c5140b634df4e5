// DecryptEngine: a shard stopped and handed back later (as a consumer group does) starts again where it stopped.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DataKeyRing, DecryptEngine } from '../../agent/decrypt/index.js';
import { startWorld, waitFor, type World } from '../helpers/e2e.js';
import { makeGroups, shipGroups, shipper, type Shipper } from '../helpers/sealed.js';

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
