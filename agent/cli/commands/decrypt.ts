// `logseal decrypt -c FILE`: prints the plaintext of a Logstore as NDJSON (FORMAT.md "Reading back").
import { once } from 'node:events';
import { loadConfig, resolveCredentials } from '../../config/index.js';
import { deadLetterGroups } from '../../decrypt/dead-letter-source.js';
import { SealedLogReader, type DecryptRange, type PlainLogLine } from '../../decrypt/reader.js';
import { KmsClient } from '../../keys/index.js';
import { SlsClient } from '../../ship/index.js';
import { UsageError } from '../exit.js';

export interface DecryptFlags {
  config: string;
  logstore?: string;
  shard?: string;
  from?: string;
  to?: string;
  /** Read the sealed batches of this dead-letter directory instead of a Logstore. */
  deadLetter?: string;
}

/** `begin`/`end`, unix seconds, or an ISO-8601 time. */
export function parseTimeFlag<T extends string>(raw: string | undefined, keyword: T, flag: string): T | number {
  if (raw === undefined || raw === keyword) return keyword;
  if (/^\d+$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new UsageError(`${flag}: expected ${keyword}, unix seconds or an ISO-8601 time, got "${raw}"`);
  return Math.floor(ms / 1000);
}

export async function decryptCommand(flags: DecryptFlags, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const config = await loadConfig(flags.config);
  if (flags.deadLetter !== undefined) {
    if (flags.shard !== undefined) throw new UsageError('--shard: not with --dead-letter (the files name their Logstore, not a shard)');
    for (const [flag, value, keyword] of [['--from', flags.from, 'begin'], ['--to', flags.to, 'end']] as const) {
      if (value !== undefined && value !== keyword) throw new UsageError(`${flag}: not with --dead-letter (every file is read)`);
    }
  }
  let shards: number[] | undefined;
  if (flags.shard !== undefined) {
    const n = Number(flags.shard);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--shard: expected a shard number, got "${flags.shard}"`);
    shards = [n];
  }
  const range: DecryptRange = {
    logstore: flags.logstore ?? config.sls.logstore,
    from: parseTimeFlag(flags.from, 'begin', '--from'),
    to: parseTimeFlag(flags.to, 'end', '--to'),
    ...(shards ? { shards } : {}),
  };
  const sls = new SlsClient({ endpoint: config.sls.endpoint, project: config.sls.project, credentials: resolveCredentials(config, 'sls') });
  const kmsCreds = await resolveCredentials(config, 'kms')();
  const kms = new KmsClient({
    endpoint: config.kms.endpoint,
    regionId: config.kms.regionId,
    accessKeyId: kmsCreds.accessKeyId,
    accessKeySecret: kmsCreds.accessKeySecret,
    ...(kmsCreds.securityToken ? { securityToken: kmsCreds.securityToken } : {}),
  });
  const reader = new SealedLogReader(sls, kms, config.sls.project);
  const lines: AsyncIterable<PlainLogLine> =
    flags.deadLetter === undefined ? reader.read(range) : reader.readGroups(deadLetterOf(flags.deadLetter, config.sls.project, flags.logstore));
  try {
    for await (const line of lines) {
      if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
    }
  } finally {
    reader.close();
    await sls.close();
  }
  return 0;
}

/** The dead-letter files of this project (of one Logstore when --logstore is given); another project's file is an error. */
async function* deadLetterOf(dir: string, project: string, logstore: string | undefined): ReturnType<typeof deadLetterGroups> {
  for await (const g of deadLetterGroups(dir)) {
    if (g.meta.project !== project) throw new UsageError(`--dead-letter: ${g.where} was sealed for project ${g.meta.project}, the config names ${project}`);
    if (logstore === undefined || g.logstore === logstore) yield g;
  }
}
