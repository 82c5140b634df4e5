// Spool replay: several of the oldest entries in flight at once, each removed only after its own acknowledgement,
// and no new request while a failure is being backed off.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaySpool } from '../../agent/pipeline/spool-replay.js';
import { RequestConcurrency, SlsError, type SlsClient } from '../../agent/ship/index.js';
import { Spool } from '../../agent/spool/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'logseal-replay-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function spoolOf(n: number): Promise<Spool> {
  const spool = await Spool.open({ dir: path.join(dir, 'spool'), maxBytes: 1 << 30 });
  for (let i = 1; i <= n; i++) {
    await spool.append({ logstore: 'app', payload: { body: Buffer.alloc(64, i), rawSize: 64, compressType: 'none' }, logCount: i });
  }
  return spool;
}

/** A PutLogs stand-in answering in whatever order the test releases requests. */
function fakeClient(spool: Spool, fail: (n: number) => boolean, retried = false) {
  let active = 0;
  let maxActive = 0;
  const calls: number[] = [];
  const stillSpooledWhenAnswered: boolean[] = [];
  const client = {
    putLogs: async (_logstore: string, payload: { body: Uint8Array }, opts?: { onRetry?: (e: SlsError, n: number) => void }) => {
      const n = payload.body[0]!;
      // As SlsClient reports a request that succeeded only after SLS said it was busy.
      if (retried) opts?.onRetry?.(new SlsError({ code: 'ServerBusy', status: 503, detail: 'busy' }), 1);
      calls.push(n);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 5 + ((n * 7) % 11)));
      active--;
      stillSpooledWhenAnswered.push(spool.front(8).some((e) => e.logCount === n) || spool.count > 0);
      if (fail(n)) throw new SlsError({ code: 'ServerBusy', status: 503, detail: 'busy' });
      return {};
    },
  } as unknown as SlsClient;
  return { client, calls, maxActive: () => maxActive };
}

describe('replaySpool', () => {
  it('drains with up to `parallel` requests at once and removes each entry after its acknowledgement', async () => {
    const spool = await spoolOf(20);
    const fake = fakeClient(spool, () => false);
    const shipped: number[] = [];
    await replaySpool(fake.client, spool, 4, new AbortController().signal, {
      shipped: (e) => shipped.push(e.logCount),
      putAside: async () => expect.unreachable(),
      failed: () => expect.unreachable(),
      backOff: async () => {},
      closed: () => false,
    });
    expect(spool.count).toBe(0);
    expect(fake.maxActive()).toBe(4);
    expect(shipped.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // Oldest first: a request for entry n starts only once those more than `parallel` ahead of it were sent.
    fake.calls.forEach((n, i) => expect(n).toBeLessThanOrEqual(i + 4));
    await spool.close();
  });

  it('keeps a refused entry, lets the others in flight finish, backs off once, then sends it again', async () => {
    const spool = await spoolOf(6);
    let refuse = true;
    const fake = fakeClient(spool, (n) => n === 2 && refuse);
    const events: string[] = [];
    await replaySpool(fake.client, spool, 3, new AbortController().signal, {
      shipped: (e) => events.push(`shipped ${e.logCount}`),
      putAside: async () => false,
      failed: (err) => events.push(`failed ${err.code}`),
      backOff: async () => {
        events.push(`back off with ${spool.count} spooled`);
        refuse = false;
      },
      closed: () => false,
    });
    expect(spool.count).toBe(0);
    expect(events.filter((e) => e.startsWith('failed'))).toEqual(['failed ServerBusy']);
    // Entries 1 and 3 were in flight with 2 and were kept; 2 and what was not sent yet waited for the back-off.
    const backOffAt = events.findIndex((e) => e.startsWith('back off'));
    expect(events.slice(0, backOffAt).sort()).toEqual(['failed ServerBusy', 'shipped 1', 'shipped 3']);
    expect(events[backOffAt]).toBe('back off with 4 spooled');
    expect(fake.calls.filter((n) => n === 2)).toHaveLength(2);
    await spool.close();
  });

  it('goes on without backing off when a refused entry is put aside (dead-lettered) and removed', async () => {
    const spool = await spoolOf(5);
    const fake = fakeClient(spool, (n) => n === 2);
    const events: string[] = [];
    await replaySpool(fake.client, spool, 2, new AbortController().signal, {
      shipped: (e) => events.push(`shipped ${e.logCount}`),
      putAside: async (entry, err) => {
        events.push(`put aside ${entry.logCount} ${err.code}`);
        await spool.remove(entry.id);
        return true;
      },
      failed: () => expect.unreachable(),
      backOff: async () => expect.unreachable(),
      closed: () => false,
    });
    expect(spool.count).toBe(0);
    expect(events.sort()).toEqual(['put aside 2 ServerBusy', 'shipped 1', 'shipped 3', 'shipped 4', 'shipped 5']);
    expect(fake.calls.filter((n) => n === 2)).toHaveLength(1);
    await spool.close();
  });

  it('with the agent\'s PutLogs concurrency: as many at once as it allows, and pushback brings it down', async () => {
    const fixed = await spoolOf(12);
    const one = fakeClient(fixed, () => false);
    const hooks = {
      shipped: () => {},
      putAside: async () => expect.unreachable(),
      failed: () => expect.unreachable(),
      backOff: async () => {},
      closed: () => false,
    };
    await replaySpool(one.client, fixed, new RequestConcurrency({ max: 3, adaptive: false }), new AbortController().signal, hooks);
    expect(fixed.count).toBe(0);
    expect(one.maxActive()).toBe(3);
    await fixed.close();
    await rm(path.join(dir, 'spool'), { recursive: true, force: true });

    const busy = await spoolOf(12);
    const gate = new RequestConcurrency({ max: 8, adaptive: true });
    expect(gate.limit).toBe(2);
    const other = fakeClient(busy, () => false, true);
    await replaySpool(other.client, busy, gate, new AbortController().signal, hooks);
    expect(busy.count).toBe(0);
    expect(other.maxActive()).toBeLessThanOrEqual(2);
    expect(gate.limit).toBe(1);
    await busy.close();
  });
});
