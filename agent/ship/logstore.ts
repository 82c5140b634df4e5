// Logstore settings as the SLS JSON API spells them, and their mapping to and from that JSON.
export interface EncryptConf {
  enable: boolean;
  /** `default` is AES-256-GCM, `m4` is SM4-GCM; fixed once the Logstore exists. */
  encrypt_type: 'default' | 'm4';
  /** Absent: a per-Logstore service key. Present: bring-your-own CMK, used through the RAM role `arn`. */
  user_cmk_info?: { cmk_key_id: string; arn: string; region_id: string };
}

export interface LogstoreSpec {
  logstoreName: string;
  /** Days to keep data. */
  ttl: number;
  shardCount: number;
  encrypt_conf?: EncryptConf;
}

export interface ShardInfo {
  shardID: number;
  status: string;
}

export function logstoreBody(spec: LogstoreSpec): Buffer {
  const body: Record<string, unknown> = { logstoreName: spec.logstoreName, ttl: spec.ttl, shardCount: spec.shardCount };
  if (spec.encrypt_conf !== undefined) body.encrypt_conf = spec.encrypt_conf;
  return Buffer.from(JSON.stringify(body));
}

/** Picks the spec out of a GetLogstore answer (which holds many more settings); undefined when it is not one. */
export function parseLogstore(json: unknown): LogstoreSpec | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const o = json as Record<string, unknown>;
  if (typeof o.logstoreName !== 'string' || typeof o.ttl !== 'number' || typeof o.shardCount !== 'number') return undefined;
  const spec: LogstoreSpec = { logstoreName: o.logstoreName, ttl: o.ttl, shardCount: o.shardCount };
  if (o.encrypt_conf !== undefined && o.encrypt_conf !== null) spec.encrypt_conf = o.encrypt_conf as EncryptConf;
  return spec;
}

/** Shards from a ListShards answer; undefined when it is not one. */
export function parseShards(json: unknown): ShardInfo[] | undefined {
  if (!Array.isArray(json)) return undefined;
  const shards: ShardInfo[] = [];
  for (const s of json) {
    if (typeof s !== 'object' || s === null || typeof s.shardID !== 'number' || typeof s.status !== 'string') return undefined;
    shards.push({ shardID: s.shardID, status: s.status });
  }
  return shards;
}
