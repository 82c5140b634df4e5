// sls.concurrency adaptive, end to end: a real agent process against the SLS emulator over HTTP. Behind a far
// endpoint (every request 30 ms) the PutLogs limit climbs above its start; when SLS answers ServerBusy to part of
// the requests it comes down again; no line is lost either way. With `fixed` it stays at sls.maxInFlight.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  agentConfig,
  appendLines,
  compareDelivery,
  daemonFixture,
  expectedLines,
  shippedContents,
  waitFor,
  writeConfig,
  type AgentProcess,
  type World,
} from '../helpers/e2e.js';

const { start, world: startWorld } = daemonFixture();

async function limitOf(a: AgentProcess): Promise<number | undefined> {
  const text = await (await fetch(`${await a.metricsUrl()}/metrics`)).text();
  const m = /^logseal_sls_concurrency_limit (\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

async function allArrived(w: World, expected: string[]): Promise<void> {
  await waitFor(`${expected.length} lines in the Logstore`, async () => {
    const c = compareDelivery(expected, await shippedContents(w));
    return c.missing.length === 0 && c.unexpected.length === 0 ? true : undefined;
  }, 60_000, 300);
}

/** Small batches, many of them: the PutLogs gate, not the batcher, decides how many go at once. */
const config = (w: World, concurrency: string) =>
  agentConfig(w, { sls: { ...(agentConfig(w).sls as object), maxInFlight: 6, concurrency }, batch: { maxLogs: 10, linger: '50ms' } });

describe('sls.concurrency', () => {
  it('adaptive: climbs behind a far endpoint, comes down when SLS pushes back, and loses nothing', async () => {
    const w = await startWorld();
    const app = path.join(w.logDir, 'app.log');
    w.emulators.sls.faults.set({ latencyMs: 30 });
    const agent = start(await writeConfig(w, config(w, 'adaptive')));
    await appendLines(app, 'a', 0, 3000);
    let highest = 0;
    await waitFor('the limit above its start', async () => {
      highest = Math.max(highest, (await limitOf(agent)) ?? 0);
      return highest >= 4 ? true : undefined;
    }, 30_000, 50);
    await allArrived(w, expectedLines('a', 0, 3000));

    w.emulators.sls.faults.set({ latencyMs: 30, errorRate: 0.5, errorCode: 'ServerBusy', errorStatus: 503 });
    await appendLines(app, 'a', 3000, 4000);
    // From 6: a tenth off (at least one) per round trip that saw a retried request, one back per clean round trip.
    await waitFor('the limit down by half', async () => ((await limitOf(agent)) ?? 99) <= 3 || undefined, 30_000, 50);
    w.emulators.sls.faults.set({});
    await allArrived(w, expectedLines('a', 0, 4000));
  }, 120_000);

  it('fixed: sls.maxInFlight all along', async () => {
    const w = await startWorld();
    w.emulators.sls.faults.set({ latencyMs: 30 });
    const agent = start(await writeConfig(w, config(w, 'fixed')));
    await appendLines(path.join(w.logDir, 'app.log'), 'f', 0, 500);
    await allArrived(w, expectedLines('f', 0, 500));
    expect(await limitOf(agent)).toBe(6);
  }, 60_000);
});
