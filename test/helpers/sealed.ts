// Test data for the read side: plaintext LogGroups sealed by the real SealPool and put into an emulator Logstore.
import { DataKeyCache, KmsClient, encryptionContext } from '../../agent/keys/index.js';
import { SealPool, type SealAlgorithm } from '../../agent/seal/index.js';
import { SlsClient } from '../../agent/ship/index.js';
import type { LogGroup } from '../../agent/wire/loggroup.js';
import type { World } from './e2e.js';

export interface Shipper {
  sls: SlsClient;
  kms: KmsClient;
  pool: SealPool;
  close(): Promise<void>;
}

export function shipper(world: World): Shipper {
  const creds = { accessKeyId: world.emulators.accessKeyId, accessKeySecret: world.emulators.accessKeySecret };
  const sls = new SlsClient({ endpoint: world.emulators.sls.url, project: world.project, credentials: creds });
  const kms = new KmsClient({ endpoint: world.emulators.kms.url, regionId: 'cn-hangzhou', ...creds });
  const pool = new SealPool({ threads: 1 });
  return {
    sls,
    kms,
    pool,
    close: async () => {
      await pool.close();
      await sls.close();
    },
  };
}

/** Hash keys that route to the first and the last shard of a Logstore. */
export const FIRST_SHARD = '00000000000000000000000000000000';
export const LAST_SHARD = 'ffffffffffffffffffffffffffffffff';

export interface ShipOptions {
  algorithm?: SealAlgorithm;
  mode?: 'group' | 'log';
  zip?: 'lz4' | 'none';
  /** A fresh data key after this many logs (several keys in one Logstore). */
  keyEvery?: number;
  hashKey?: string;
}

/** Seals each group and puts it, in order. */
export async function shipGroups(s: Shipper, world: World, logstore: string, groups: LogGroup[], o: ShipOptions = {}): Promise<void> {
  const algorithm = o.algorithm ?? 'AES_256_GCM';
  const keys = new DataKeyCache({
    kms: s.kms,
    cmk: world.cmk,
    algorithm,
    context: encryptionContext(world.project, logstore),
    ...(o.keyEvery ? { rotate: { maxRecords: o.keyEvery } } : {}),
  });
  try {
    for (const group of groups) {
      const key = await keys.acquire(group.logs.length, 10_000);
      const sealed = await s.pool.seal({ group, key, target: { project: world.project, logstore, mode: o.mode ?? 'group', zip: o.zip ?? 'lz4' }, compressType: 'lz4' });
      await s.sls.putLogs(logstore, sealed.payload, o.hashKey ? { hashKey: o.hashKey } : undefined);
    }
  } finally {
    keys.close();
  }
}

/** `count` groups of `perGroup` logs; content `<tag> <g>.<i>`, level ERROR every third, status 200/404/503. */
export function makeGroups(tag: string, count: number, perGroup: number, topic = `topic-${tag}`): LogGroup[] {
  return Array.from({ length: count }, (_, g) => ({
    topic,
    source: '10.0.0.7',
    logTags: [{ key: 'env', value: g % 2 === 0 ? 'prod' : 'dev' }],
    logs: Array.from({ length: perGroup }, (_, i) => ({
      time: 1_700_000_000 + g,
      contents: [
        { key: 'content', value: `${tag} ${g}.${i}` },
        { key: 'level', value: i % 3 === 0 ? 'ERROR' : 'INFO' },
        { key: 'status', value: String([200, 404, 503][i % 3]) },
      ],
    })),
  }));
}
