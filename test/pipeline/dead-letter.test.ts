// Batches SLS refuses for good, end to end: a real agent process, the SLS emulator refusing oversized LogGroups over
// HTTP, the sealed batch in the dead-letter directory, the pipeline shipping on, and `logseal decrypt --dead-letter`.
import { randomBytes } from 'node:crypto';
import { appendFile, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  agentConfig,
  type AgentProcess,
  appendLines,
  compareDelivery,
  daemonFixture,
  expectedLines,
  runCli,
  shippedContents,
  stopAgent,
  waitFor,
  type World,
  writeConfig,
} from '../helpers/e2e.js';

const { start, world: startTrackedWorld } = daemonFixture();

/** The emulator refuses LogGroups over this size; the agent's batches of ordinary lines stay well below it. */
const MAX_GROUP_BYTES = 20_000;
/** Random base64: incompressible, so its sealed LogGroup is over MAX_GROUP_BYTES. */
const bigLine = () => randomBytes(22_500).toString('base64');

async function metric(a: AgentProcess, line: RegExp): Promise<number> {
  const text = await (await fetch(`${await a.metricsUrl()}/metrics`)).text();
  return Number(line.exec(text)?.[1] ?? 0);
}
const DEAD = /^logseal_dead_letter_batches_total\{code="PostBodyTooLarge"\} (\d+)/m;
const DROPPED = /^logseal_dead_letter_dropped_total\{code="PostBodyTooLarge"\} (\d+)/m;

async function allArrived(w: World, expected: string[]): Promise<string[]> {
  return waitFor(`${expected.length} lines in the Logstore`, async () => {
    const got = await shippedContents(w);
    return compareDelivery(expected, got).missing.length === 0 ? got : undefined;
  }, 45_000, 300);
}

const deadFiles = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.dead'));

describe('a batch SLS refuses for good', () => {
  it('goes sealed to the dead-letter directory, the rest ships on, decrypt --dead-letter prints it, and the bound holds', async () => {
    const w = (await startTrackedWorld());
    const deadDir = path.join(w.dir, 'state', 'dead-letter');
    const app = path.join(w.logDir, 'app.log');
    const big = path.join(w.logDir, 'big.log');
    const config = agentConfig(w, { batch: { maxLogs: 500, linger: '200ms', maxBytes: '8KiB' } });
    const configFile = await writeConfig(w, config);
    w.emulators.sls.faults.set({ maxGroupBytes: MAX_GROUP_BYTES });
    const agent = start(configFile);

    const refused = bigLine();
    await appendLines(app, 'a', 0, 200);
    await appendFile(big, `${refused}\n`);
    await appendLines(app, 'a', 200, 400);
    const got = await allArrived(w, expectedLines('a', 0, 400));
    expect(compareDelivery(expectedLines('a', 0, 400), got)).toEqual({ missing: [], duplicates: 0, unexpected: [] });

    await waitFor('the refused batch in the dead-letter directory', async () => (await deadFiles(deadDir)).length === 1);
    const [name] = await deadFiles(deadDir);
    const file = path.join(deadDir, name!);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // Sealed: the file never holds the line itself.
    expect((await readFile(file)).includes(Buffer.from(refused.slice(0, 64)))).toBe(false);
    expect(await metric(agent, DEAD)).toBe(1);
    const logged = agent.logs().find((l) => l.code === 'PostBodyTooLarge' && l.level === 50);
    expect(logged).toMatchObject({ status: 400, logstore: w.logstore, lines: 1, file });
    expect(w.emulators.sls.stats().rejected.PostBodyTooLarge).toBe(1); // refused once, never retried

    const printed = await runCli(['decrypt', '-c', configFile, '--dead-letter', deadDir]);
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    const lines = printed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { topic: string; contents: Record<string, string>; tags: Record<string, string> });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ topic: 'e2e', contents: { content: refused }, tags: { __path__: big } });

    // The checkpoint moved past it: after a restart it is not read again. Now the directory has no room left.
    expect(await stopAgent(agent)).toBe(0);
    const used = (await stat(file)).size;
    const second = start(await writeConfig(w, { ...config, deadLetter: { maxBytes: used + 100 } }));
    await appendFile(big, `${bigLine()}\n`);
    await appendLines(app, 'a', 400, 600);
    await allArrived(w, expectedLines('a', 0, 600));
    await waitFor('the drop to be counted', async () => (await metric(second, DROPPED)) === 1);
    await waitFor('the drop to be logged', () => second.logs().some((l) => l.code === 'PostBodyTooLarge' && String(l.msg).includes('dead-letter directory is full')));
    expect(await deadFiles(deadDir)).toEqual([name]);
    expect(await metric(second, DEAD)).toBe(0);
    expect(w.emulators.sls.stats().rejected.PostBodyTooLarge).toBe(2);
    expect((await shippedContents(w)).some((c) => c.length > 10_000)).toBe(false);
  });

  it('is taken out of the spool during replay, and the batches behind it still go out in order', async () => {
    const w = (await startTrackedWorld());
    const deadDir = path.join(w.dir, 'custom-dead');
    const app = path.join(w.logDir, 'app.log');
    const big = path.join(w.logDir, 'big.log');
    const agent = start(await writeConfig(w, agentConfig(w, { sls: { timeout: '2s' }, batch: { maxLogs: 500, linger: '200ms', maxBytes: '8KiB' }, deadLetter: { dir: deadDir } })));
    await appendLines(app, 'b', 0, 50);
    await allArrived(w, expectedLines('b', 0, 50));
    w.emulators.sls.faults.set({ refuseWrites: true, errorCode: 'ServerBusy' });
    // The oversized batch is spooled first, so it is at the head of the spool with ordinary batches behind it.
    await appendFile(big, `${bigLine()}\n`);
    await waitFor('the oversized batch in the spool', async () => (await metric(agent, /^logseal_spool_entries (\d+)/m)) === 1);
    await appendLines(app, 'b', 50, 250);
    await waitFor('batches behind it', async () => (await metric(agent, /^logseal_spool_entries (\d+)/m)) >= 3);
    w.emulators.sls.faults.set({ maxGroupBytes: MAX_GROUP_BYTES });
    const got = await allArrived(w, expectedLines('b', 0, 250));
    expect(compareDelivery(expectedLines('b', 0, 250), got)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    await waitFor('the refused batch in the configured directory', async () => (await deadFiles(deadDir)).length === 1);
    await waitFor('the spool to drain', async () => (await metric(agent, /^logseal_spool_entries (\d+)/m)) === 0);
    expect(await metric(agent, DEAD)).toBe(1);
  });
});
