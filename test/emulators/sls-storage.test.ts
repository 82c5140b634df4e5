// The SLS emulator's storage: acknowledged writes survive a restart, torn tails are cut, and stored bytes are ciphertext.
import { appendFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogGroup } from '../../agent/wire/loggroup.js';
import { putLogGroup, readShard, signedRequest, type SlsTarget } from '../../emulators/sls/client.js';
import { startSlsEmulator, type SlsEmulator } from '../../emulators/sls/index.js';

const ID = 'storage-id';
const SECRET = 'storage-secret';
const PROJECT = 'proj-storage';
const HASH0 = '00000000000000000000000000000000';

let dir: string;
const agent = new Agent({ keepAlive: true });

function target(emu: SlsEmulator): SlsTarget {
  return { url: emu.url, project: PROJECT, accessKeyId: ID, accessKeySecret: SECRET, agent };
}

function start(): Promise<SlsEmulator> {
  return startSlsEmulator({ dataDir: dir, accessKeyId: ID, accessKeySecret: SECRET });
}

async function createLogstore(emu: SlsEmulator, name: string, encrypt_conf?: object, shardCount = 1): Promise<void> {
  const res = await signedRequest({
    ...target(emu),
    method: 'POST',
    path: '/logstores',
    body: Buffer.from(JSON.stringify({ logstoreName: name, ttl: 1, shardCount, encrypt_conf })),
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status, res.body.toString()).toBe(200);
}

function marked(marker: string, n: number): LogGroup {
  return { logTags: [], logs: [{ time: 1_700_000_000 + n, contents: [{ key: 'secret', value: `${marker}-${n}` }] }] };
}

/** Every file under the data directory, so a test can look for plaintext anywhere the emulator wrote. */
async function allFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

async function storeFilesContain(logstore: string, needle: string): Promise<boolean> {
  for (const f of await allFiles(join(dir, 'projects', PROJECT, logstore))) {
    if ((await readFile(f)).includes(Buffer.from(needle))) return true;
  }
  return false;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sls-storage-'));
});

afterAll(async () => {
  agent.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('durability', () => {
  it('keeps every project, logstore and log across a restart on the same dataDir', async () => {
    let emu = await start();
    await createLogstore(emu, 'kept-plain');
    await createLogstore(emu, 'kept-aes', { enable: true, encrypt_type: 'default' }, 2);
    await createLogstore(emu, 'kept-sm4', { enable: true, encrypt_type: 'm4' });
    const sent = Array.from({ length: 20 }, (_, i) => marked('restart', i));
    for (const store of ['kept-plain', 'kept-aes', 'kept-sm4']) {
      for (const g of sent) await putLogGroup(target(emu), store, g, HASH0);
    }
    await emu.close();

    emu = await start();
    try {
      for (const store of ['kept-plain', 'kept-aes', 'kept-sm4']) expect(await readShard(target(emu), store, 0)).toEqual(sent);
      const got = await signedRequest({ ...target(emu), method: 'GET', path: '/logstores/kept-sm4' });
      expect(JSON.parse(got.body.toString())).toMatchObject({ logstoreName: 'kept-sm4', encrypt_conf: { enable: true, encrypt_type: 'm4' } });
      // Writing after the restart appends behind the old records.
      await putLogGroup(target(emu), 'kept-aes', marked('after', 0), HASH0);
      expect(await readShard(target(emu), 'kept-aes', 0)).toEqual([...sent, marked('after', 0)]);
    } finally {
      await emu.close();
    }
  });

  it('cuts a torn record off the end of a segment and keeps everything acknowledged before it', async () => {
    let emu = await start();
    await createLogstore(emu, 'torn');
    const sent = [marked('torn', 1), marked('torn', 2)];
    for (const g of sent) await putLogGroup(target(emu), 'torn', g, HASH0);
    await emu.close();

    const shardDir = join(dir, 'projects', PROJECT, 'torn', 'shard-0');
    const [segment] = (await readdir(shardDir)).filter((f) => f.endsWith('.seg'));
    const before = (await stat(join(shardDir, segment!))).size;
    // A frame header promising 1000 bytes, followed by only a few: what a crash mid-append leaves.
    const torn = Buffer.alloc(20);
    torn.writeUInt32LE(1000, 0);
    await appendFile(join(shardDir, segment!), torn);

    emu = await start();
    try {
      expect((await stat(join(shardDir, segment!))).size).toBe(before);
      expect(await readShard(target(emu), 'torn', 0)).toEqual(sent);
      await putLogGroup(target(emu), 'torn', marked('torn', 3), HASH0);
      expect(await readShard(target(emu), 'torn', 0)).toEqual([...sent, marked('torn', 3)]);
    } finally {
      await emu.close();
    }
  });

  it('rolls over to a new segment file past 64 MiB and reads across segments after a restart', async () => {
    let emu = await start();
    await createLogstore(emu, 'rollover', { enable: true, encrypt_type: 'default' });
    // ~8.6 MiB LogGroups (highly compressible on the wire, stored at full size): ten of them fill more than one segment.
    const big = (n: number): LogGroup => ({
      logTags: [{ key: 'n', value: String(n) }],
      logs: Array.from({ length: 1000 }, (_, i) => ({ time: 1_700_000_000, contents: [{ key: 'v', value: `${n}:${i}:`.padEnd(9000, 'z') }] })),
    });
    for (let n = 0; n < 10; n++) await putLogGroup(target(emu), 'rollover', big(n), HASH0);
    await emu.close();
    const segments = (await readdir(join(dir, 'projects', PROJECT, 'rollover', 'shard-0'))).filter((f) => f.endsWith('.seg'));
    expect(segments.length).toBeGreaterThanOrEqual(2);

    emu = await start();
    try {
      const back = await readShard(target(emu), 'rollover', 0);
      expect(back.map((g) => g.logTags[0]!.value)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(back[9]).toEqual(big(9));
    } finally {
      await emu.close();
    }
  });

  it('acknowledges many concurrent writes on keep-alive connections, all of them readable', async () => {
    const emu = await start();
    try {
      await createLogstore(emu, 'concurrent', undefined, 2);
      const n = 300;
      await Promise.all(Array.from({ length: n }, (_, i) => putLogGroup(target(emu), 'concurrent', marked('c', i))));
      const all = [...(await readShard(target(emu), 'concurrent', 0)), ...(await readShard(target(emu), 'concurrent', 1))];
      expect(all.map((g) => g.logs[0]!.contents[0]!.value).sort()).toEqual(Array.from({ length: n }, (_, i) => `c-${i}`).sort());
      expect(emu.stats().putLogs).toBe(n);
    } finally {
      await emu.close();
    }
  });
});

describe('at rest', () => {
  it('stores ciphertext for encrypted logstores and plaintext only where encryption is off', async () => {
    const emu = await start();
    try {
      await createLogstore(emu, 'disk-aes', { enable: true, encrypt_type: 'default' });
      await createLogstore(emu, 'disk-sm4', { enable: true, encrypt_type: 'm4' });
      await createLogstore(emu, 'disk-off', { enable: false, encrypt_type: 'default' });
      await createLogstore(emu, 'disk-none');
      for (const store of ['disk-aes', 'disk-sm4', 'disk-off', 'disk-none']) {
        await putLogGroup(target(emu), store, marked(`needle-${store}`, 0), HASH0);
        expect(await readShard(target(emu), store, 0)).toEqual([marked(`needle-${store}`, 0)]);
      }
      expect(await storeFilesContain('disk-aes', 'needle-disk-aes')).toBe(false);
      expect(await storeFilesContain('disk-sm4', 'needle-disk-sm4')).toBe(false);
      // The same scan finds the marker where nothing encrypts it, so a false above is meaningful.
      expect(await storeFilesContain('disk-off', 'needle-disk-off')).toBe(true);
      expect(await storeFilesContain('disk-none', 'needle-disk-none')).toBe(true);
    } finally {
      await emu.close();
    }
  });

  it('keeps the service key in a metadata file only its owner can read', async () => {
    const emu = await start();
    try {
      await createLogstore(emu, 'key-file', { enable: true, encrypt_type: 'default' });
      const meta = join(dir, 'projects', PROJECT, 'key-file', 'meta.json');
      expect((await stat(meta)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(meta, 'utf8')).atRestKey.kind).toBe('service');
    } finally {
      await emu.close();
    }
  });

  it('reads records sealed before encryption was turned off and writes plaintext after', async () => {
    const emu = await start();
    try {
      await createLogstore(emu, 'toggle', { enable: true, encrypt_type: 'm4' });
      await putLogGroup(target(emu), 'toggle', marked('sealed-first', 0), HASH0);
      const off = await signedRequest({
        ...target(emu),
        method: 'PUT',
        path: '/logstores/toggle',
        body: Buffer.from(JSON.stringify({ logstoreName: 'toggle', ttl: 1, shardCount: 1, encrypt_conf: { enable: false, encrypt_type: 'm4' } })),
        headers: { 'content-type': 'application/json' },
      });
      expect(off.status).toBe(200);
      await putLogGroup(target(emu), 'toggle', marked('plain-later', 0), HASH0);
      expect(await readShard(target(emu), 'toggle', 0)).toEqual([marked('sealed-first', 0), marked('plain-later', 0)]);
      expect(await storeFilesContain('toggle', 'sealed-first')).toBe(false);
      expect(await storeFilesContain('toggle', 'plain-later')).toBe(true);
    } finally {
      await emu.close();
    }
  });
});

describe('record memory', () => {
  it('reuses the memory of records given back, and never that of records still held', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sls-frames-'));
    const { ShardLog, releaseRecords } = await import('../../emulators/sls/shard-log.js');
    const log = await ShardLog.open(dir);
    try {
      const bodies = [Buffer.alloc(100_000, 1), Buffer.alloc(90_000, 2), Buffer.alloc(120_000, 3), Buffer.alloc(10, 4)];
      for (const b of bodies) await log.append(b);
      const first = await log.read(0);
      const held = await log.read(1);
      releaseRecords([first, await log.read(3)]); // the small one is not kept: its memory is shared
      const reused = await log.read(1);
      expect(reused.buffer).toBe(first.buffer);
      expect(reused.equals(bodies[1]!)).toBe(true);
      expect(held.equals(bodies[1]!)).toBe(true);
      // A record larger than any memory given back gets its own.
      const larger = await log.read(2);
      expect(larger.buffer).not.toBe(first.buffer);
      expect(larger.equals(bodies[2]!)).toBe(true);
      expect((await log.read(0)).equals(bodies[0]!)).toBe(true);
    } finally {
      await log.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
