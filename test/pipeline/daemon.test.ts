// The daemon end to end: real agent processes tailing real files, shipping to the local SLS over HTTP,
// and every line read back through `logseal decrypt`'s reader.
import { copyFile, rename, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  agentConfig,
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

async function allArrived(w: World, expected: string[], timeoutMs = 45_000): Promise<string[]> {
  return waitFor(
    `${expected.length} lines in the Logstore`,
    async () => {
      const got = await shippedContents(w);
      return compareDelivery(expected, got).missing.length === 0 ? got : undefined;
    },
    timeoutMs,
    300,
  );
}

describe('logseal run', () => {
  it('ships every line of a file being written, sealed, and drains on SIGTERM with exit 0', async () => {
    const w = (await startTrackedWorld());
    const file = path.join(w.logDir, 'app.log');
    await appendLines(file, 'a', 0, 500);
    const agent = start(await writeConfig(w, agentConfig(w)));
    await appendLines(file, 'a', 500, 1000);
    const got = await allArrived(w, expectedLines('a', 0, 1000));
    expect(compareDelivery(expectedLines('a', 0, 1000), got)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(await stopAgent(agent)).toBe(0);
    expect(agent.logs().some((l) => l.msg === 'logseal agent stopped')).toBe(true);
  });

  it('loses nothing across rename rotation and copytruncate while lines are written', async () => {
    const w = (await startTrackedWorld());
    const file = path.join(w.logDir, 'app.log');
    await appendLines(file, 'r', 0, 200);
    start(await writeConfig(w, agentConfig(w)));
    await waitFor('first lines shipped', async () => (await shippedContents(w)).length >= 200);
    await appendLines(file, 'r', 200, 400);
    await rename(file, path.join(w.logDir, 'app.log.1')); // no longer matches *.log: must be finished anyway
    await appendLines(file, 'r', 400, 600);
    await waitFor('lines after rename', async () => (await shippedContents(w)).length >= 600);
    // copytruncate: copy aside (not matched by the glob), then truncate in place, then keep writing.
    await appendLines(file, 'r', 600, 700);
    await waitFor('lines before copytruncate', async () => (await shippedContents(w)).length >= 700);
    await copyFile(file, path.join(w.logDir, 'app.log.2'));
    await truncate(file, 0);
    await appendLines(file, 'r', 700, 900);
    const got = await allArrived(w, expectedLines('r', 0, 900));
    const d = compareDelivery(expectedLines('r', 0, 900), got);
    expect(d.missing).toEqual([]);
    expect(d.unexpected).toEqual([]);
    expect(d.duplicates).toBe(0);
  });

  it('resumes after kill -9 with nothing lost and duplicates bounded by the in-flight window', async () => {
    const w = (await startTrackedWorld());
    const file = path.join(w.logDir, 'app.log');
    const configFile = await writeConfig(w, agentConfig(w));
    const first = start(configFile);
    await appendLines(file, 'k', 0, 3000);
    await waitFor('some lines shipped', async () => (await shippedContents(w)).length >= 500);
    await appendLines(file, 'k', 3000, 4000);
    await stopAgent(first, 'SIGKILL');
    await appendLines(file, 'k', 4000, 5000);
    start(configFile);
    const got = await allArrived(w, expectedLines('k', 0, 5000));
    const d = compareDelivery(expectedLines('k', 0, 5000), got);
    expect(d.missing).toEqual([]);
    expect(d.unexpected).toEqual([]);
    // At most the batches in flight at the crash come again: (maxInFlight + 2 × threads) batches of ≤ 500 logs.
    expect(d.duplicates).toBeLessThanOrEqual((8 + 2) * 500);
  });

  it('spools sealed batches while SLS refuses writes, then drains the spool in order', async () => {
    const w = (await startTrackedWorld());
    const file = path.join(w.logDir, 'app.log');
    const agent = start(await writeConfig(w, agentConfig(w, { sls: { timeout: '2s' } })));
    await appendLines(file, 's', 0, 100);
    await allArrived(w, expectedLines('s', 0, 100));
    w.emulators.sls.faults.set({ refuseWrites: true, errorCode: 'ServerBusy', errorStatus: 503 });
    await appendLines(file, 's', 100, 2000);
    const metrics = await agent.metricsUrl();
    await waitFor('the spool to hold sealed batches', async () => {
      const text = await (await fetch(`${metrics}/metrics`)).text();
      return Number(/^logseal_spool_entries (\d+)/m.exec(text)?.[1] ?? 0) > 0;
    });
    expect((await shippedContents(w)).length).toBe(100);
    w.emulators.sls.faults.clear();
    const got = await allArrived(w, expectedLines('s', 0, 2000), 60_000);
    const d = compareDelivery(expectedLines('s', 0, 2000), got);
    expect(d.missing).toEqual([]);
    expect(d.duplicates).toBe(0);
    await waitFor('the spool to drain', async () => {
      const text = await (await fetch(`${metrics}/metrics`)).text();
      return /^logseal_spool_entries 0$/m.test(text);
    });
  });

  it('holds its data while the CMK is disabled, says so, and delivers everything once it is enabled', async () => {
    const w = (await startTrackedWorld());
    const file = path.join(w.logDir, 'app.log');
    const config = agentConfig(w, { seal: { algorithm: 'AES_256_GCM', mode: 'group', threads: 1, rotate: { maxAge: '1s' } } });
    (config.sls as Record<string, unknown>).createLogstore = {
      ttl: 7,
      shardCount: 2,
      encrypt_conf: { enable: true, encrypt_type: 'default', user_cmk_info: { cmk_key_id: w.cmk, arn: 'acs:ram::1234567890123456:role/aliyunlogdefaultrole', region_id: 'cn-hangzhou' } },
    };
    const agent = start(await writeConfig(w, config));
    await appendLines(file, 'c', 0, 100);
    await allArrived(w, expectedLines('c', 0, 100));
    await w.emulators.kms.keyring.setEnabled(w.cmk, false);
    const storedBefore = w.emulators.sls.stats().putLogs;
    // The cached data key may seal until its max age (1s here); after that only a new GenerateDataKey would do.
    await new Promise((r) => setTimeout(r, 1500));
    await appendLines(file, 'c', 100, 600);
    const metrics = await agent.metricsUrl();
    const health = await waitFor('/healthz to report the unusable CMK', async () => {
      const res = await fetch(`${metrics}/healthz`);
      const body = (await res.json()) as { state: string; holdingReason?: string };
      return res.status === 503 && body.state === 'holding' ? body : undefined;
    });
    expect(health.holdingReason).toContain('Rejected.Disabled');
    await waitFor('an error log naming the KMS code', () => agent.logs().some((l) => l.code === 'Rejected.Disabled' && l.level === 50));
    // Nothing was sealed or written while the key was unusable, and nothing plaintext landed in the state dir.
    expect(w.emulators.sls.stats().putLogs).toBe(storedBefore);
    await w.emulators.kms.keyring.setEnabled(w.cmk, true);
    const got = await allArrived(w, expectedLines('c', 0, 600));
    expect(compareDelivery(expectedLines('c', 0, 600), got).missing).toEqual([]);
  });

  it('keeps its position across a SIGHUP reload', async () => {
    const w = (await startTrackedWorld());
    const file = path.join(w.logDir, 'app.log');
    const configFile = await writeConfig(w, agentConfig(w));
    const agent = start(configFile);
    await appendLines(file, 'h', 0, 300);
    await allArrived(w, expectedLines('h', 0, 300));
    agent.child.kill('SIGHUP');
    await waitFor('the reload', () => agent.logs().filter((l) => l.msg === 'logseal agent started').length >= 2);
    await appendLines(file, 'h', 300, 600);
    const got = await allArrived(w, expectedLines('h', 0, 600));
    expect(compareDelivery(expectedLines('h', 0, 600), got).duplicates).toBe(0);
  });
});

describe('bad input', () => {
  it('a malformed config gives one line naming the key, and exit code 78', async () => {
    const w = (await startTrackedWorld());
    const bad = agentConfig(w, { batch: { maxLogs: 99999 } });
    const res = await runCli(['run', '-c', await writeConfig(w, bad)]);
    expect(res.code).toBe(78);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('batch.maxLogs');
    const yamlBroken = path.join(w.dir, 'broken.yaml');
    await writeFile(yamlBroken, 'sls: [unclosed');
    const res2 = await runCli(['validate', '-c', yamlBroken]);
    expect(res2.code).toBe(78);
    expect(res2.stderr.trim().split('\n')).toHaveLength(1);
    expect(res2.stderr).toContain('broken.yaml');
    const missing = await runCli(['validate', '-c', path.join(w.dir, 'nope.yaml')]);
    expect(missing.code).toBe(78);
    expect(missing.stderr).toContain('nope.yaml');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unusable state directory is one line, not a stack trace', async () => {
    const w = (await startTrackedWorld());
    const res = await runCli(['run', '-c', await writeConfig(w, agentConfig(w, { stateDir: '/dev/null/state' }))]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('/dev/null/state');
  });
});
