// Seal → ship → `logseal decrypt`: both suites, both modes, through real worker threads, real HTTP and the real CLI.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataKeyCache, KmsClient, encryptionContext } from '../../agent/keys/index.js';
import { SealPool } from '../../agent/seal/index.js';
import { SlsClient, preparePayload } from '../../agent/ship/index.js';
import { encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';
import { requireBuild, runCli, startWorld, writeConfig, agentConfig, type World } from '../helpers/e2e.js';

let world: World;
let sls: SlsClient;
let kms: KmsClient;
let pool: SealPool;

beforeAll(async () => {
  requireBuild();
  world = await startWorld();
  const creds = { accessKeyId: world.emulators.accessKeyId, accessKeySecret: world.emulators.accessKeySecret };
  sls = new SlsClient({ endpoint: world.emulators.sls.url, project: world.project, credentials: creds });
  kms = new KmsClient({ endpoint: world.emulators.kms.url, regionId: 'cn-hangzhou', ...creds });
  pool = new SealPool({ threads: 2 });
});

afterAll(async () => {
  await pool?.close();
  await sls?.close();
  await world?.close();
});

function plainGroups(tag: string, groups: number, perGroup: number): LogGroup[] {
  const out: LogGroup[] = [];
  for (let g = 0; g < groups; g++) {
    out.push({
      topic: `topic-${tag}`,
      source: '10.0.0.7',
      logTags: [{ key: '__path__', value: `/var/log/${tag}.log` }, { key: 'env', value: 'prod' }],
      logs: Array.from({ length: perGroup }, (_, i) => ({
        time: 1_700_000_000 + g * 10 + (i % 7),
        timeNs: (i * 7919) % 1_000_000_000,
        contents: [
          { key: 'content', value: `${tag} group ${g} line ${i} ünïcødé ${'y'.repeat(i % 50)}` },
          { key: 'level', value: i % 3 === 0 ? 'ERROR' : 'INFO' },
        ],
      })),
    });
  }
  return out;
}

function expectedNdjson(groups: LogGroup[]): object[] {
  return groups.flatMap((g) =>
    g.logs.map((l) => ({
      time: l.time,
      time_ns: l.timeNs,
      topic: g.topic,
      source: g.source,
      tags: Object.fromEntries(g.logTags.map((t) => [t.key, t.value])),
      contents: Object.fromEntries(l.contents.map((c) => [c.key, c.value])),
    })),
  );
}

const cases = [
  { algorithm: 'AES_256_GCM', mode: 'group', zip: 'lz4' },
  { algorithm: 'AES_256_GCM', mode: 'log', zip: 'none' },
  { algorithm: 'SM4_128_GCM', mode: 'group', zip: 'lz4' },
  { algorithm: 'SM4_128_GCM', mode: 'log', zip: 'none' },
  { algorithm: 'SM4_128_GCM', mode: 'group', zip: 'none' },
] as const;

describe('seal, ship and logseal decrypt', () => {
  for (const c of cases) {
    it(`returns exactly the input logs: ${c.algorithm} mode ${c.mode} zip ${c.zip}`, async () => {
      const logstore = `rt-${c.algorithm.slice(0, 3).toLowerCase()}-${c.mode}-${c.zip}`;
      await sls.createLogstore({ logstoreName: logstore, ttl: 7, shardCount: 1, encrypt_conf: { enable: true, encrypt_type: c.algorithm === 'SM4_128_GCM' ? 'm4' : 'default' } });
      const keys = new DataKeyCache({ kms, cmk: world.cmk, algorithm: c.algorithm, context: encryptionContext(world.project, logstore), rotate: { maxRecords: 150 } });
      const groups = plainGroups(logstore, 4, 100);
      for (const group of groups) {
        const key = await keys.acquire(group.logs.length, 10_000);
        const sealed = await pool.seal({ group, key, target: { project: world.project, logstore, mode: c.mode, zip: c.zip }, compressType: 'lz4' });
        await sls.putLogs(logstore, sealed.payload);
      }
      keys.close();

      const cfg = await writeConfig(world, agentConfig(world, {}), `${logstore}.yaml`);
      const res = await runCli(['decrypt', '-c', cfg, '--logstore', logstore]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as object);
      expect(lines).toEqual(expectedNdjson(groups));
    });
  }

  it('stops with exit code 2 and one line naming shard and cursor when a record does not authenticate', async () => {
    const logstore = 'rt-tampered';
    await sls.createLogstore({ logstoreName: logstore, ttl: 7, shardCount: 1 });
    const keys = new DataKeyCache({ kms, cmk: world.cmk, algorithm: 'AES_256_GCM', context: encryptionContext(world.project, logstore) });
    const [good, bad] = plainGroups(logstore, 2, 5);
    for (const [group, tamper] of [[good, false], [bad, true]] as const) {
      const key = await keys.acquire(5, 1000);
      const sealed = await pool.seal({ group, key, target: { project: world.project, logstore, mode: 'log', zip: 'none' }, compressType: 'none' });
      if (!tamper) {
        await sls.putLogs(logstore, sealed.payload);
        continue;
      }
      // Flip one bit inside the third record's ciphertext and ship that.
      const { decodeLogGroup } = await import('../../agent/wire/loggroup.js');
      const shipped = decodeLogGroup(sealed.payload.body);
      const record = Buffer.from(shipped.logs[2].contents[0].value as string, 'base64');
      record[20] ^= 0x01;
      shipped.logs[2].contents[0].value = record.toString('base64');
      await sls.putLogs(logstore, preparePayload(encodeLogGroup(shipped), 'lz4'));
    }
    keys.close();
    const cfg = await writeConfig(world, agentConfig(world, {}), `${logstore}.yaml`);
    const res = await runCli(['decrypt', '-c', cfg, '--logstore', logstore]);
    expect(res.code).toBe(2);
    const err = res.stderr.trim().split('\n');
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/shard 0 cursor \S+: record does not authenticate/);
    // The good group's logs may be printed; nothing of the tampered group is.
    const printed = res.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { contents: { content: string } });
    expect(printed.map((p) => p.contents.content)).toEqual(good.logs.map((l) => l.contents[0].value));
    expect(path.basename(cfg)).toBe(`${logstore}.yaml`);
  });
});
