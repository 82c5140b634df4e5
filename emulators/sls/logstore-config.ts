// Logstore settings as the service accepts them: naming rules, ttl/shardCount ranges, encrypt_conf create/update rules, shard hash ranges.
import { SlsApiError } from './errors.js';

export type EncryptType = 'default' | 'm4';

export interface UserCmkInfo {
  cmk_key_id: string;
  arn: string;
  region_id: string;
}

export interface EncryptConf {
  enable: boolean;
  encrypt_type: EncryptType;
  user_cmk_info?: UserCmkInfo;
}

export interface LogstoreSettings {
  logstoreName: string;
  ttl: number;
  shardCount: number;
  encrypt_conf?: EncryptConf;
}

export interface ShardRange {
  shardID: number;
  inclusiveBeginKey: string;
  exclusiveEndKey: string;
}

const LOGSTORE_NAME = /^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/;
const PROJECT_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const RAM_ROLE_ARN = /^acs:ram::\d+:role\/[A-Za-z0-9._-]+$/;
const REGION_ID = /^[a-z0-9-]+$/;
const MAX_SHARDS = 100;
const MAX_TTL_DAYS = 3650;

function invalid(message: string): SlsApiError {
  return new SlsApiError('ParameterInvalid', message);
}

export function isValidLogstoreName(name: string): boolean {
  return LOGSTORE_NAME.test(name);
}

export function isValidProjectName(name: string): boolean {
  return PROJECT_NAME.test(name);
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} must be a JSON object.`);
  return v as Record<string, unknown>;
}

function intInRange(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}.`);
  }
  return v;
}

function parseUserCmkInfo(v: unknown): UserCmkInfo {
  const o = asObject(v, 'encrypt_conf.user_cmk_info');
  const field = (k: 'cmk_key_id' | 'arn' | 'region_id'): string => {
    const s = o[k];
    if (typeof s !== 'string' || s.length === 0) throw invalid(`encrypt_conf.user_cmk_info.${k} is required.`);
    return s;
  };
  const info = { cmk_key_id: field('cmk_key_id'), arn: field('arn'), region_id: field('region_id') };
  if (!RAM_ROLE_ARN.test(info.arn)) throw invalid(`encrypt_conf.user_cmk_info.arn must look like acs:ram::<account>:role/<name>, got ${info.arn}.`);
  if (!REGION_ID.test(info.region_id)) throw invalid(`encrypt_conf.user_cmk_info.region_id ${info.region_id} is not a region id.`);
  return info;
}

/** Validates one encrypt_conf as sent; `encrypt_type` may be left out only while encryption is off. */
export function parseEncryptConf(v: unknown): EncryptConf {
  const o = asObject(v, 'encrypt_conf');
  if (typeof o.enable !== 'boolean') throw invalid('encrypt_conf.enable must be true or false.');
  let type: EncryptType;
  if (o.encrypt_type === undefined) {
    if (o.enable) throw invalid('encrypt_conf.encrypt_type is required when enable is true.');
    type = 'default';
  } else if (o.encrypt_type === 'default' || o.encrypt_type === 'm4') {
    type = o.encrypt_type;
  } else {
    throw invalid(`encrypt_conf.encrypt_type must be default or m4, got ${JSON.stringify(o.encrypt_type)}.`);
  }
  const conf: EncryptConf = { enable: o.enable, encrypt_type: type };
  if (o.user_cmk_info !== undefined && o.user_cmk_info !== null) conf.user_cmk_info = parseUserCmkInfo(o.user_cmk_info);
  return conf;
}

/** CreateLogStore body. */
export function parseCreateBody(body: unknown): LogstoreSettings {
  const o = asObject(body, 'request body');
  const name = o.logstoreName;
  if (typeof name !== 'string' || !isValidLogstoreName(name)) {
    throw invalid(
      `logstoreName ${JSON.stringify(name)} is invalid: 3-63 characters, lowercase letters, digits, '-' and '_', starting and ending with a letter or digit.`,
    );
  }
  const settings: LogstoreSettings = {
    logstoreName: name,
    ttl: intInRange(o.ttl, 'ttl', 1, MAX_TTL_DAYS),
    shardCount: intInRange(o.shardCount, 'shardCount', 1, MAX_SHARDS),
  };
  if (o.encrypt_conf !== undefined && o.encrypt_conf !== null) settings.encrypt_conf = parseEncryptConf(o.encrypt_conf);
  return settings;
}

function sameCmk(a: UserCmkInfo, b: UserCmkInfo): boolean {
  return a.cmk_key_id === b.cmk_key_id && a.arn === b.arn && a.region_id === b.region_id;
}

/**
 * UpdateLogStore body against the current settings. Once encryption is configured only `enable` may change, and the
 * whole encrypt_conf must be sent again; the shard count is not changed by this call (SplitShard/MergeShards do that).
 */
export function applyUpdateBody(current: LogstoreSettings, body: unknown): LogstoreSettings {
  const o = asObject(body, 'request body');
  if (o.logstoreName !== undefined && o.logstoreName !== current.logstoreName) {
    throw invalid(`logstoreName ${JSON.stringify(o.logstoreName)} does not match the logstore ${current.logstoreName} being updated.`);
  }
  const next: LogstoreSettings = { ...current };
  if (o.ttl !== undefined) next.ttl = intInRange(o.ttl, 'ttl', 1, MAX_TTL_DAYS);

  const was = current.encrypt_conf;
  const sent = o.encrypt_conf === undefined || o.encrypt_conf === null ? undefined : parseEncryptConf(o.encrypt_conf);
  if (was === undefined) {
    if (sent !== undefined) next.encrypt_conf = sent;
    return next;
  }
  if (sent === undefined) {
    throw invalid('encrypt_conf must be sent in full on every update of a logstore that has encryption configured.');
  }
  if (sent.encrypt_type !== was.encrypt_type) {
    throw invalid(`encrypt_conf.encrypt_type cannot be changed (it is ${was.encrypt_type}); only enable may change.`);
  }
  if ((sent.user_cmk_info === undefined) !== (was.user_cmk_info === undefined)) {
    throw invalid('encrypt_conf cannot switch between the service key and a BYOK key (user_cmk_info); only enable may change.');
  }
  if (sent.user_cmk_info && was.user_cmk_info && !sameCmk(sent.user_cmk_info, was.user_cmk_info)) {
    throw invalid('encrypt_conf.user_cmk_info cannot be changed; only enable may change.');
  }
  next.encrypt_conf = { ...was, enable: sent.enable };
  return next;
}

const KEY_SPACE = 1n << 128n;

function hexKey(v: bigint): string {
  return v.toString(16).padStart(32, '0');
}

/** Splits the MD5 key space evenly, as a freshly created logstore's shards are. */
export function shardRanges(shardCount: number): ShardRange[] {
  const n = BigInt(shardCount);
  return Array.from({ length: shardCount }, (_, i) => {
    const begin = (BigInt(i) * KEY_SPACE) / n;
    const end = i === shardCount - 1 ? KEY_SPACE - 1n : (BigInt(i + 1) * KEY_SPACE) / n;
    return { shardID: i, inclusiveBeginKey: hexKey(begin), exclusiveEndKey: hexKey(end) };
  });
}

/** The shard whose range holds a 32-hex-digit hash key; the last shard also takes the top of the key space. */
export function shardForHashKey(ranges: readonly ShardRange[], key: string): number {
  if (!/^[0-9a-fA-F]{32}$/.test(key)) throw invalid(`hash key ${JSON.stringify(key)} must be 32 hex digits (an MD5).`);
  const k = key.toLowerCase();
  for (const r of ranges) {
    if (k >= r.inclusiveBeginKey && (k < r.exclusiveEndKey || r.shardID === ranges.length - 1)) return r.shardID;
  }
  return ranges.length - 1;
}
