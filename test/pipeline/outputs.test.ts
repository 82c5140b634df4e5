// Several outputs end to end: one agent process, two inputs sending to two Logstores under two CMKs through the real
// emulators over HTTP, read back separately; a CMK disabled for one output; the spool and restarts with two outputs.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataKeyCache, KmsClient, encryptionContext } from '../../agent/keys/index.js';
import { cipherFor, sealGroup } from '../../agent/seal/index.js';
import { SlsClient } from '../../agent/ship/index.js';
import { encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';
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

const BILLING = 'billing';

/** The World's default input (→ sls.logstore, kms.cmk) for app-*.log and a second one for billing-*.log. */
function twoOutputs(w: World, billingCmk: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return agentConfig(w, {
    inputs: [
      { paths: [path.join(w.logDir, 'app-*.log')], topic: 'e2e', startAt: 'beginning' },
      { paths: [path.join(w.logDir, 'billing-*.log')], topic: 'e2e', startAt: 'beginning', logstore: BILLING, cmk: billingCmk },
    ],
    ...over,
  });
}

const contentsOf = (w: World, logstore: string) => shippedContents({ ...w, logstore });

async function arrived(w: World, logstore: string, expected: string[]): Promise<string[]> {
  return waitFor(`${expected.length} lines in ${logstore}`, async () => {
    const got = await contentsOf(w, logstore);
    return compareDelivery(expected, got).missing.length === 0 ? got : undefined;
  }, 45_000, 300);
}

/** Every LogGroup stored in a Logstore, as shipped (sealed): readable without the CMK. */
async function storedGroups(w: World, logstore: string): Promise<LogGroup[]> {
  const sls = new SlsClient({ endpoint: w.emulators.sls.url, project: w.project, credentials: { accessKeyId: w.emulators.accessKeyId, accessKeySecret: w.emulators.accessKeySecret } });
  const groups: LogGroup[] = [];
  try {
    for (const { shardID } of await sls.listShards(logstore)) {
      groups.push(...(await sls.pullLogs(logstore, shardID, await sls.getCursor(logstore, shardID, 'begin'), 1000)).groups);
    }
  } finally {
    await sls.close();
  }
  return groups;
}

const sealingCmks = async (w: World, logstore: string) =>
  new Set((await storedGroups(w, logstore)).map((g) => g.logTags.find((t) => t.key === '__seal_cmk__')!.value));

/**
 * A spool entry exactly as the single-output agent has always written it (LSSP version 1, agent/spool/entry-file.ts),
 * laid out here byte by byte so a change of the on-disk format cannot go unnoticed: one sealed line for sls.logstore.
 */
async function writeOldSpoolEntry(w: World, line: string): Promise<void> {
  const kms = new KmsClient({ endpoint: w.emulators.kms.url, regionId: 'cn-hangzhou', accessKeyId: w.emulators.accessKeyId, accessKeySecret: w.emulators.accessKeySecret });
  const keys = new DataKeyCache({ kms, cmk: w.cmk, algorithm: 'AES_256_GCM', context: encryptionContext(w.project, w.logstore) });
  const key = await keys.acquire(1, line.length);
  const target = { project: w.project, logstore: w.logstore, mode: 'group', zip: 'lz4' } as const;
  const plain = { topic: 'e2e', source: 'old-host', logTags: [], logs: [{ time: 1_764_000_000, contents: [{ key: 'content', value: line }] }] };
  const body = encodeLogGroup(sealGroup(plain, key, target, cipherFor('AES_256_GCM')));
  keys.close();
  const logstore = Buffer.from(w.logstore);
  const head = Buffer.alloc(44);
  head.write('LSSP', 0, 'latin1');
  head.writeUInt8(1, 4); // version
  head.writeUInt8(0, 5); // compress type none
  head.writeBigUInt64BE(1n, 8); // id
  head.writeBigUInt64BE(BigInt(Date.now()), 16);
  head.writeUInt32BE(body.length, 24); // rawSize
  head.writeUInt32BE(1, 28); // logCount
  head.writeUInt16BE(logstore.length, 32);
  head.writeUInt32BE(body.length, 36);
  head.writeUInt32BE(crc32(body, crc32(logstore, crc32(head.subarray(0, 40)))), 40);
  const dir = path.join(w.dir, 'state', 'spool');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, '0000000000000001.entry'), Buffer.concat([head, logstore, body]), { mode: 0o600 });
}

describe('several outputs', () => {
  it('ships each input to its own Logstore under its own CMK, nothing mixed; an old spool entry replays to sls.logstore', async () => {
    const w = (await startTrackedWorld());
    const billingCmk = (await w.emulators.kms.keyring.createKey('Aliyun_AES_256')).keyId;
    await writeOldSpoolEntry(w, 'spooled-before-upgrade');
    const configFile = await writeConfig(w, twoOutputs(w, billingCmk));
    const agent = start(configFile);
    await appendLines(path.join(w.logDir, 'app-1.log'), 'a', 0, 300);
    await appendLines(path.join(w.logDir, 'billing-1.log'), 'b', 0, 300);

    const app = await arrived(w, w.logstore, [...expectedLines('a', 0, 300), 'spooled-before-upgrade']);
    expect(compareDelivery([...expectedLines('a', 0, 300), 'spooled-before-upgrade'], app)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    const billing = await arrived(w, BILLING, expectedLines('b', 0, 300));
    expect(compareDelivery(expectedLines('b', 0, 300), billing)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(await sealingCmks(w, w.logstore)).toEqual(new Set([w.cmk]));
    expect(await sealingCmks(w, BILLING)).toEqual(new Set([billingCmk]));
    expect(agent.logs().filter((l) => l.msg === 'created logstore').map((l) => l.logstore).sort()).toEqual([w.logstore, BILLING].sort());

    // `logseal decrypt --logstore` reads one output back on its own.
    const printed = await runCli(['decrypt', '-c', configFile, '--logstore', BILLING]);
    expect(printed.code).toBe(0);
    const lines = printed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { contents: { content: string } }).contents.content);
    expect(compareDelivery(expectedLines('b', 0, 300), lines)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(await stopAgent(agent)).toBe(0);
  });

  it('holds the output whose CMK is disabled, says which, keeps shipping the other, and loses nothing', async () => {
    const w = (await startTrackedWorld());
    const billingCmk = (await w.emulators.kms.keyring.createKey('Aliyun_AES_256')).keyId;
    const agent = start(await writeConfig(w, twoOutputs(w, billingCmk, { seal: { algorithm: 'AES_256_GCM', mode: 'group', threads: 1, rotate: { maxAge: '1s' } } })));
    const appLog = path.join(w.logDir, 'app-1.log');
    const billingLog = path.join(w.logDir, 'billing-1.log');
    await appendLines(appLog, 'a', 0, 100);
    await appendLines(billingLog, 'b', 0, 100);
    await arrived(w, w.logstore, expectedLines('a', 0, 100));
    await arrived(w, BILLING, expectedLines('b', 0, 100));

    await w.emulators.kms.keyring.setEnabled(billingCmk, false);
    const billingGroups = (await storedGroups(w, BILLING)).length;
    // The cached data key may seal until its max age (1s here); after that only a new GenerateDataKey would do.
    await new Promise((r) => setTimeout(r, 1500));
    await appendLines(billingLog, 'b', 100, 150);
    const metrics = await agent.metricsUrl();
    const health = await waitFor('/healthz to report the held output', async () => {
      const res = await fetch(`${metrics}/healthz`);
      const body = (await res.json()) as { state: string; holdingReason?: string; outputs: { logstore: string; state: string }[] };
      return res.status === 503 && body.state === 'holding' ? body : undefined;
    });
    expect(health.holdingReason).toMatch(new RegExp(`^${BILLING}: Rejected\\.Disabled`));
    expect(health.outputs.map((o) => o.logstore)).toEqual([w.logstore, BILLING]);
    await waitFor('an error log naming the Logstore and the KMS code', () =>
      agent.logs().some((l) => l.code === 'Rejected.Disabled' && l.logstore === BILLING && l.level === 50),
    );

    // The other output goes on while one batch of the held one waits in memory.
    await appendLines(appLog, 'a', 100, 600);
    await arrived(w, w.logstore, expectedLines('a', 0, 600));
    expect((await storedGroups(w, BILLING)).length).toBe(billingGroups);

    await w.emulators.kms.keyring.setEnabled(billingCmk, true);
    const billing = await arrived(w, BILLING, expectedLines('b', 0, 150));
    expect(compareDelivery(expectedLines('b', 0, 150), billing)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    await waitFor('/healthz to report running again', async () => (await fetch(`${metrics}/healthz`)).status === 200);
  });

  it('spools both outputs while SLS refuses writes and replays each batch to its own Logstore after a restart', async () => {
    const w = (await startTrackedWorld());
    const billingCmk = (await w.emulators.kms.keyring.createKey('Aliyun_AES_256')).keyId;
    const configFile = await writeConfig(w, twoOutputs(w, billingCmk, { sls: { timeout: '2s' } }));
    const first = start(configFile);
    const metrics = await first.metricsUrl();
    await waitFor('the agent to start', () => first.logs().some((l) => l.msg === 'logseal agent started'));
    w.emulators.sls.faults.set({ refuseWrites: true, errorCode: 'ServerBusy' });
    await appendLines(path.join(w.logDir, 'app-1.log'), 'a', 0, 400);
    await appendLines(path.join(w.logDir, 'billing-1.log'), 'b', 0, 400);
    await waitFor('every batch of both outputs in the spool', async () => {
      const text = await (await fetch(`${metrics}/metrics`)).text();
      return Number(/^logseal_spool_entries (\d+)/m.exec(text)?.[1]) >= 2 && /^logseal_batches_in_flight 0$/m.test(text) && /^logseal_lines_read_total 800$/m.test(text);
    });
    expect(await stopAgent(first)).toBe(0);
    expect(w.emulators.sls.stats().putLogs).toBe(0);

    w.emulators.sls.faults.clear();
    start(configFile);
    const app = await arrived(w, w.logstore, expectedLines('a', 0, 400));
    const billing = await arrived(w, BILLING, expectedLines('b', 0, 400));
    expect(compareDelivery(expectedLines('a', 0, 400), app)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(compareDelivery(expectedLines('b', 0, 400), billing)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
  });
});
