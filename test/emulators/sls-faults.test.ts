// Fault injection in the SLS emulator, through its API and through the HTTP control endpoints used by chaos runs.
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LogGroup } from '../../agent/wire/loggroup.js';
import { EmulatorCallError, putLogGroup, readShard, signedRequest, type SlsTarget } from '../../emulators/sls/client.js';
import { startSlsEmulator, type SlsEmulator } from '../../emulators/sls/index.js';

const ID = 'fault-id';
const SECRET = 'fault-secret';
const agent = new Agent({ keepAlive: true });
let dir: string;
let emu: SlsEmulator;
let target: SlsTarget;

const one: LogGroup = { logTags: [], logs: [{ time: 1_700_000_000, contents: [{ key: 'k', value: 'v' }] }] };

async function failure(p: Promise<unknown>): Promise<{ status: number; code: string } | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof EmulatorCallError) return { status: e.status, code: e.code };
    throw e;
  }
}

/** A plain (unsigned) call to the emulator's control endpoints. */
function control(method: string, path: string, secret: string | undefined, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {};
    if (secret !== undefined) headers['x-emulator-secret'] = secret;
    if (payload) headers['content-type'] = 'application/json';
    const req = request({ hostname: '127.0.0.1', port: emu.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sls-faults-'));
  emu = await startSlsEmulator({ dataDir: dir, accessKeyId: ID, accessKeySecret: SECRET });
  target = { url: emu.url, project: 'proj-faults', accessKeyId: ID, accessKeySecret: SECRET, agent };
  const res = await signedRequest({
    ...target,
    method: 'POST',
    path: '/logstores',
    body: Buffer.from(JSON.stringify({ logstoreName: 'chaos', ttl: 1, shardCount: 1 })),
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(200);
});

beforeEach(() => emu.faults.clear());

afterAll(async () => {
  agent.destroy();
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

describe('fault injection', () => {
  it('refuseWrites fails every PutLogs with 503 ServerBusy and stores nothing, reads still work', async () => {
    const before = (await readShard(target, 'chaos', 0)).length;
    emu.faults.set({ refuseWrites: true });
    for (let i = 0; i < 3; i++) expect(await failure(putLogGroup(target, 'chaos', one))).toEqual({ status: 503, code: 'ServerBusy' });
    expect((await readShard(target, 'chaos', 0)).length).toBe(before);
    emu.faults.clear();
    expect(await failure(putLogGroup(target, 'chaos', one))).toBe('ok');
    expect((await readShard(target, 'chaos', 0)).length).toBe(before + 1);
  });

  it('errorRate 1 with WriteQuotaExceed answers 403 WriteQuotaExceed and counts the rejections', async () => {
    const rejectedBefore = emu.stats().rejected.WriteQuotaExceed ?? 0;
    const okBefore = emu.stats().putLogs;
    emu.faults.set({ errorRate: 1, errorCode: 'WriteQuotaExceed' });
    for (let i = 0; i < 4; i++) expect(await failure(putLogGroup(target, 'chaos', one))).toEqual({ status: 403, code: 'WriteQuotaExceed' });
    expect(emu.stats().rejected.WriteQuotaExceed).toBe(rejectedBefore + 4);
    expect(emu.stats().putLogs).toBe(okBefore);
  });

  it('errorRate 0.5 fails about half of the writes, with an explicit status when given', async () => {
    emu.faults.set({ errorRate: 0.5, errorCode: 'InternalServerError', errorStatus: 502 });
    const results = await Promise.all(Array.from({ length: 200 }, () => failure(putLogGroup(target, 'chaos', one))));
    const failed = results.filter((r) => r !== 'ok');
    // Binomial(200, 0.5): outside [60, 140] has probability below 1e-8.
    expect(failed.length).toBeGreaterThan(60);
    expect(failed.length).toBeLessThan(140);
    expect(new Set(failed.map((f) => JSON.stringify(f)))).toEqual(new Set([JSON.stringify({ status: 502, code: 'InternalServerError' })]));
  });

  it('maxGroupBytes refuses only the larger LogGroups, with 400 PostBodyTooLarge, and stores nothing of them (set over HTTP)', async () => {
    const big: LogGroup = { logTags: [], logs: [{ time: 1_700_000_000, contents: [{ key: 'k', value: 'v'.repeat(2000) }] }] };
    expect((await control('PUT', '/_emulator/faults', SECRET, { maxGroupBytes: 1000 })).status).toBe(200);
    const before = (await readShard(target, 'chaos', 0)).length;
    expect(await failure(putLogGroup(target, 'chaos', big))).toEqual({ status: 400, code: 'PostBodyTooLarge' });
    expect(await failure(putLogGroup(target, 'chaos', one))).toBe('ok');
    expect((await readShard(target, 'chaos', 0)).length).toBe(before + 1);
  });

  it('adds latencyMs to every request', async () => {
    emu.faults.set({ latencyMs: 150 });
    const t0 = performance.now();
    const res = await signedRequest({ ...target, method: 'GET', path: '/logstores/chaos' });
    expect(res.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
  });
});

describe('HTTP control endpoints', () => {
  it('PUT /_emulator/faults applies settings for signed clients, GET /_emulator/stats reports them', async () => {
    const set = await control('PUT', '/_emulator/faults', SECRET, { refuseWrites: true, errorCode: 'ShardWriteQuotaExceed' });
    expect(set).toEqual({ status: 200, json: { refuseWrites: true, errorCode: 'ShardWriteQuotaExceed' } });
    expect(emu.faults.current()).toEqual({ refuseWrites: true, errorCode: 'ShardWriteQuotaExceed' });
    expect(await failure(putLogGroup(target, 'chaos', one))).toEqual({ status: 403, code: 'ShardWriteQuotaExceed' });

    const stats = await control('GET', '/_emulator/stats', SECRET);
    expect(stats.status).toBe(200);
    expect(stats.json).toEqual(emu.stats());
    expect(stats.json.rejected.ShardWriteQuotaExceed).toBeGreaterThanOrEqual(1);

    expect((await control('DELETE', '/_emulator/faults', SECRET)).json).toEqual({});
    expect(await failure(putLogGroup(target, 'chaos', one))).toBe('ok');
  });

  it('refuses a missing or wrong secret and invalid settings', async () => {
    expect((await control('PUT', '/_emulator/faults', undefined, { refuseWrites: true })).status).toBe(401);
    expect((await control('GET', '/_emulator/stats', 'not-the-secret')).json.errorCode).toBe('Unauthorized');
    expect(emu.faults.current()).toEqual({});
    const bad = await control('PUT', '/_emulator/faults', SECRET, { errorRate: 2 });
    expect([bad.status, bad.json.errorCode]).toEqual([400, 'ParameterInvalid']);
    const unknown = await control('PUT', '/_emulator/faults', SECRET, { dropEverything: true });
    expect(unknown.status).toBe(400);
  });
});
