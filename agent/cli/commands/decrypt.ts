// `logseal decrypt -c FILE`: prints the plaintext of a Logstore (NDJSON, raw content, or a count), filtered, optionally following it.
import type { Writable } from 'node:stream';
import { loadConfig, resolveCredentials } from '../../config/index.js';
import { once } from 'node:events';
import { renderDeadLetters } from '../../decrypt/dead-letter-source.js';
import {
  compileView,
  DataKeyRing,
  DecryptEngine,
  openAtomic,
  parseWhere,
  startProgress,
  whereFields,
  type AtomicFile,
  type OutputFormat,
  type ReadView,
  type WhereExpr,
} from '../../decrypt/index.js';
import { KmsClient } from '../../keys/index.js';
import { widenPipe } from '../../native/pipe-size.js';
import { SlsClient } from '../../ship/index.js';
import { createLogger } from '../../telemetry/logger.js';
import { UsageError } from '../exit.js';
import { planGroup, runGroupMember, type GroupFlags } from './decrypt-group.js';

export interface DecryptFlags extends GroupFlags {
  config: string;
  logstore?: string;
  shard?: string;
  from?: string;
  to?: string;
  topic?: string;
  source?: string;
  tag?: string[];
  where?: string;
  output?: string;
  out?: string;
  count?: boolean;
  follow?: boolean;
  cursor?: string[];
  threads?: string;
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

/** Fields every log has, so never "unknown". */
const ALWAYS_PRESENT = new Set(['__time__', '__topic__', '__source__']);
/** Pipe capacity asked for stdout: Linux's default limit for an unprivileged process (/proc/sys/fs/pipe-max-size). */
const PIPE_BYTES = 1 << 20;

interface Plan {
  view: ReadView;
  where?: WhereExpr;
  shards?: number[];
  cursors: Map<number, string>;
  from: 'begin' | number;
  to: 'end' | number;
  threads?: number;
}

function plan(flags: DecryptFlags): Plan {
  const from = parseTimeFlag(flags.from, 'begin', '--from');
  const to = parseTimeFlag(flags.to, 'end', '--to');
  if (typeof from === 'number' && typeof to === 'number' && from > to) throw new UsageError(`--from: ${flags.from} is later than --to ${flags.to}`);
  if (flags.follow && flags.to !== undefined && flags.to !== 'end') throw new UsageError('--to: cannot be combined with --follow (following has no end)');
  const output = flags.output ?? 'ndjson';
  if (output !== 'ndjson' && output !== 'raw') throw new UsageError(`--output: expected ndjson or raw, got "${output}"`);
  if (flags.count && flags.output !== undefined) throw new UsageError('--count: prints only a number, so it takes no --output');
  if (flags.count && flags.follow) throw new UsageError('--count: cannot be combined with --follow (following has no end)');
  const format: OutputFormat = flags.count ? 'count' : output;
  const tags: Array<[string, string]> = (flags.tag ?? []).map((t) => {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new UsageError(`--tag: expected KEY=VALUE, got "${t}"`);
    return [t.slice(0, eq), t.slice(eq + 1)];
  });
  let shards: number[] | undefined;
  if (flags.shard !== undefined) {
    const n = Number(flags.shard);
    if (!/^\d+$/.test(flags.shard) || !Number.isSafeInteger(n)) throw new UsageError(`--shard: expected a shard number, got "${flags.shard}"`);
    shards = [n];
  }
  const cursors = new Map<number, string>();
  for (const c of flags.cursor ?? []) {
    const m = /^(\d{1,9})=(\S+)$/.exec(c);
    if (!m) throw new UsageError(`--cursor: expected SHARD=CURSOR, got "${c}"`);
    if (cursors.has(Number(m[1]))) throw new UsageError(`--cursor: shard ${m[1]} given twice`);
    cursors.set(Number(m[1]), m[2]!);
  }
  let threads: number | undefined;
  if (flags.threads !== undefined) {
    threads = Number(flags.threads);
    if (!/^\d+$/.test(flags.threads) || threads < 1 || threads > 256) throw new UsageError(`--threads: expected a number from 1 to 256, got "${flags.threads}"`);
  }
  if (flags.deadLetter !== undefined) {
    if (flags.shard !== undefined) throw new UsageError('--shard: not with --dead-letter (the files name their Logstore, not a shard)');
    if (flags.cursor !== undefined) throw new UsageError('--cursor: not with --dead-letter (the files are not a Logstore)');
    if (flags.follow) throw new UsageError('--follow: not with --dead-letter (every file is read once)');
  }
  const where = flags.where !== undefined ? parseWhere(flags.where) : undefined;
  const view: ReadView = {
    format,
    ...(where ? { where } : {}),
    ...(typeof from === 'number' ? { fromTime: from } : {}),
    ...(typeof to === 'number' ? { toTime: to } : {}),
    ...(flags.topic !== undefined ? { topic: flags.topic } : {}),
    ...(flags.source !== undefined ? { source: flags.source } : {}),
    ...(tags.length > 0 ? { tags } : {}),
  };
  return { view, ...(where ? { where } : {}), ...(shards ? { shards } : {}), cursors, from, to, ...(threads ? { threads } : {}) };
}

export async function decryptCommand(flags: DecryptFlags, stdout: NodeJS.WritableStream = process.stdout): Promise<number> {
  const p = plan(flags);
  const group = planGroup(flags);
  const config = await loadConfig(flags.config);
  const logstore = flags.logstore ?? config.sls.logstore;
  const slsOptions = { endpoint: config.sls.endpoint, project: config.sls.project, credentials: resolveCredentials(config, 'sls') };
  const sls = new SlsClient(slsOptions);
  const kmsCreds = await resolveCredentials(config, 'kms')();
  const kms = new KmsClient({
    endpoint: config.kms.endpoint,
    regionId: config.kms.regionId,
    accessKeyId: kmsCreds.accessKeyId,
    accessKeySecret: kmsCreds.accessKeySecret,
    ...(kmsCreds.securityToken ? { securityToken: kmsCreds.securityToken } : {}),
  });
  if (flags.deadLetter !== undefined) return decryptDeadLetters(flags.deadLetter, flags, p, config.sls.project, kms, stdout);
  const keys = new DataKeyRing(kms, config.sls.project, logstore);
  let file: AtomicFile | undefined;
  let engine: DecryptEngine | undefined;
  let stopProgress = () => {};
  const signals: Array<[NodeJS.Signals, () => void]> = [];
  try {
    const shards = group ? [] : (p.shards ?? (await sls.listShards(logstore)).map((s) => s.shardID));
    for (const s of p.cursors.keys()) if (!shards.includes(s)) throw new UsageError(`--cursor: shard ${s} is not read (shards: ${shards.join(', ')})`);
    const ranges = await Promise.all(
      shards.map(async (shard) => ({
        logstore,
        shard,
        from: p.cursors.get(shard) ?? (await sls.getCursor(logstore, shard, p.from)),
        ...(flags.follow ? {} : { to: await sls.getCursor(logstore, shard, p.to) }),
      })),
    );
    if (flags.out !== undefined) file = await openAtomic(flags.out);
    const out: Writable | NodeJS.WritableStream = file?.stream ?? stdout;
    // Node's writes to a pipe block: in a pipe of 64 KiB a page of MBs waits for the reader 64 KiB at a time.
    if (out === process.stdout) widenPipe(1, PIPE_BYTES);
    const outFailed = new Promise<never>((_, reject) => out.once('error', reject));
    outFailed.catch(() => {});
    const fields = p.where ? whereFields(p.where).filter((f) => !ALWAYS_PRESENT.has(f)) : [];
    engine = new DecryptEngine({
      sls,
      keys,
      project: config.sls.project,
      view: p.view,
      out,
      // The process's stdout and the --out file are done with a chunk when they call back; another stream may keep it.
      outCopiesOnCallback: out === process.stdout || file !== undefined,
      trackFields: fields,
      ...(p.threads ? { threads: p.threads } : {}),
    });
    const e = engine;
    stopProgress = startProgress(process.stderr, () => ({ stats: e.stats, positions: e.positions() }));
    for (const r of ranges) e.startShard(r);
    const stopSignal = new Promise<void>((resolve) => {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) {
        const h = () => resolve();
        signals.push([sig, h]);
        process.once(sig, h);
      }
    });

    if (group) {
      // A member stops on SIGTERM/SIGINT or when reading fails; either way each shard's output is written and its
      // checkpoint committed before the process ends, so the group continues where this one stopped.
      const until = Promise.race([stopSignal, e.failed(), outFailed]);
      until.catch(() => {});
      try {
        await runGroupMember({ plan: group, logstore, client: slsOptions, sls, engine: e, from: p.from, until, log: createLogger('info') });
      } catch (err) {
        // Checkpoints only cover output that was written, so a reader that went away loses nothing.
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
        throw err;
      }
      stopProgress();
      process.stderr.write(`logseal: decrypt stopped; consumer group ${group.group} holds the checkpoints\n`);
      return 0;
    }

    if (flags.follow) {
      // Following ends on SIGTERM/SIGINT: what was pulled is written, then the cursors to resume from are printed.
      const stopped = Promise.race([stopSignal, e.failed(), outFailed]);
      try {
        await stopped;
      } catch (err) {
        if (!file && (err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
        throw err;
      }
      const resume = await Promise.all(ranges.map(async (r) => `--cursor ${r.shard}=${await e.stopShard(r.shard)}`));
      await e.finished();
      stopProgress();
      await file?.commit();
      process.stderr.write(`logseal: decrypt stopped; resume with ${resume.join(' ')}\n`);
      return 0;
    }

    try {
      await Promise.race([e.finished(), e.failed(), outFailed]);
    } catch (err) {
      // The reader of stdout went away (`logseal decrypt | head`): it has all it wanted.
      if (!file && (err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
      throw err;
    }
    stopProgress();
    if (e.stats.logs > 0) {
      const unknown = fields.filter((f) => !e.seenFields.has(f));
      if (unknown.length > 0) {
        throw new UsageError(`--where: field "${unknown[0]}" occurs in none of the ${e.stats.logs} logs read${unknown.length > 1 ? ` (nor ${unknown.slice(1).map((f) => `"${f}"`).join(', ')})` : ''}`);
      }
    }
    if (p.view.format === 'count') out.write(`${e.stats.lines}\n`);
    await file?.commit();
    return 0;
  } finally {
    stopProgress();
    for (const [sig, h] of signals) process.off(sig, h);
    await file?.discard();
    await engine?.close();
    keys.close();
    await sls.close();
  }
}

/** `decrypt --dead-letter DIR`: the refused batches of the directory, through the same view and output as a Logstore. */
async function decryptDeadLetters(
  dir: string,
  flags: DecryptFlags,
  p: Plan,
  project: string,
  kms: KmsClient,
  stdout: NodeJS.WritableStream,
): Promise<number> {
  let file: AtomicFile | undefined;
  try {
    if (flags.out !== undefined) file = await openAtomic(flags.out);
    const out: Writable | NodeJS.WritableStream = file?.stream ?? stdout;
    let lines = 0;
    for await (const rendered of renderDeadLetters(dir, project, flags.logstore, kms, compileView(p.view))) {
      lines += rendered.lines;
      if (rendered.out.length > 0 && !out.write(rendered.out)) await once(out, 'drain');
    }
    if (p.view.format === 'count') out.write(`${lines}\n`);
    await file?.commit();
    return 0;
  } finally {
    await file?.discard();
  }
}
