// The one schema for logseal's config file: every key's type, default, unit, limit and description live here.
import os from 'node:os';
import { z } from 'zod';
import { credential, duration, endpoint, integer, listenAddress, regexPattern, size, stringMap } from './values.js';

export { normalizeEndpoint } from './values.js';

/** Documentation attached to every key; `configReference()` renders it, so it cannot drift from the parser. */
export interface KeyDoc {
  description: string;
  /** How the value is written in YAML, e.g. "duration" or "`lz4` \| `none`"; derived for enums when omitted. */
  valueType?: string;
  /** Shown instead of the schema default when that default is computed at start-up. */
  defaultText?: string;
}

function doc<T extends z.ZodType>(schema: T, description: string, valueType?: string, defaultText?: string): T {
  const meta: KeyDoc = { description };
  if (valueType !== undefined) meta.valueType = valueType;
  if (defaultText !== undefined) meta.defaultText = defaultText;
  return schema.meta(meta as unknown as z.core.GlobalMeta);
}

// SLS limits a LogGroup to 5 MB and 4096 logs (PROTOCOLS.md); the batcher must stay within both.
export const SLS_MAX_GROUP_BYTES = 5 * 2 ** 20;
export const SLS_MAX_GROUP_LOGS = 4096;
// FORMAT.md: a data key may seal at most 2^32 records (random 96-bit nonces).
const MAX_RECORDS_PER_KEY = 2 ** 32;

const PROJECT_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
// An indexed field names the SLS index key `__bi_<field>__` and is joined by `,` in the `__seal_bi__` tag.
const INDEXED_FIELD = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const LOGSTORE_NAME = /^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/;

/**
 * The config schema, built on each call and not kept: its zod objects (~0.5 MiB of heap, measured) would otherwise
 * stay in an agent that validates its config once, at start-up.
 */
export function configSchema() {
  const encryptConf = z.strictObject({
    enable: doc(z.boolean(), 'Turn on server-side encryption of the Logstore.', 'boolean'),
    encrypt_type: doc(z.enum(['default', 'm4']).prefault('default'), '`default` = AES, `m4` = SM4.'),
    user_cmk_info: doc(
      z.strictObject({
        cmk_key_id: doc(z.string().min(1), 'The BYOK CMK id.', 'string'),
        arn: doc(z.string().min(1), 'RAM role through which SLS uses the CMK (`acs:ram::<account>:role/<name>`).', 'string'),
        region_id: doc(z.string().min(1), 'Region of the CMK.', 'string'),
      }).optional(),
      'Bring your own key; absent means a per-Logstore service key.',
      'mapping',
    ),
  });

  const logstoreName = () => z.string().regex(LOGSTORE_NAME, 'expected a logstore name: 3-63 lowercase letters, digits, hyphens or underscores');

  const sls = z
    .strictObject({
      endpoint: doc(endpoint(), 'SLS endpoint; a bare host means https://host.', 'URL or host'),
      project: doc(z.string().regex(PROJECT_NAME, 'expected a project name: 3-63 lowercase letters, digits or hyphens'), 'SLS project.', 'string'),
      logstore: doc(logstoreName(), 'Logstore that receives the sealed logs of inputs that name none of their own.', 'string'),
      accessKeyId: doc(credential(), 'AccessKey id; when absent (or empty) the default credential chain is used (env, profile, ECS RAM role).', 'string'),
      accessKeySecret: doc(credential(), 'AccessKey secret; required together with accessKeyId.', 'string'),
      securityToken: doc(credential(), 'STS token for temporary credentials.', 'string'),
      compress: doc(
        z.enum(['auto', 'lz4', 'deflate', 'zstd', 'none']).prefault('auto'),
        'Compression of PutLogs bodies. `auto`: lz4 for mode `group` with zip `none`; else none, as the sealed records are incompressible (LZ4 saves 0.4-3 % on them). ' +
          '`zstd` (level 1) packs sealed bodies to about 0.75 of their size where lz4 saves almost nothing, for 2-5x the CPU of lz4 (bench:codec); it needs the zstd-napi addon, compiled at install.',
      ),
      timeout: doc(duration({ min: 100, max: 600_000 }).prefault('30s'), 'Timeout of one PutLogs request.', 'duration'),
      maxInFlight: doc(integer({ min: 1, max: 256 }).prefault(8), 'PutLogs requests in flight at once, at most.', 'integer'),
      concurrency: doc(
        z.enum(['adaptive', 'fixed']).prefault('adaptive'),
        '`adaptive`: starts at 2 and finds how many PutLogs requests at once help, up to maxInFlight: one more per round trip while requests wait and round trips hold, fewer when round trips show queueing or SLS throttles. ' +
          '`fixed`: always maxInFlight.',
      ),
      createLogstore: doc(
        z
          .strictObject({
            ttl: doc(integer({ min: 1, max: 3650 }).prefault(30), 'Retention in days.', 'integer'),
            shardCount: doc(integer({ min: 1, max: 256 }).prefault(2), 'Shards of a new Logstore.', 'integer'),
            encrypt_conf: doc(encryptConf.optional(), 'Server-side encryption settings sent to SLS as they are.', 'mapping'),
          })
          .optional(),
        'Create each Logstore logs are sent to (sls.logstore and every inputs[].logstore) at start-up when it does not exist.',
        'mapping',
      ),
    })
    .superRefine((s, ctx) => {
      if (s.accessKeyId !== undefined && s.accessKeySecret === undefined) {
        ctx.addIssue({ code: 'custom', path: ['accessKeySecret'], message: 'is required when accessKeyId is set' });
      }
      if (s.accessKeySecret !== undefined && s.accessKeyId === undefined) {
        ctx.addIssue({ code: 'custom', path: ['accessKeyId'], message: 'is required when accessKeySecret is set' });
      }
      if (s.securityToken !== undefined && s.accessKeyId === undefined) {
        ctx.addIssue({ code: 'custom', path: ['securityToken'], message: 'needs accessKeyId and accessKeySecret' });
      }
    });

  const KMS_HOST = /^kms(?:-vpc)?\.([a-z0-9-]+)\.aliyuncs\.com$/;

  const kms = z
    .strictObject({
      endpoint: doc(endpoint().optional(), 'KMS endpoint; derived from regionId when absent.', 'URL or host', '`https://kms.<regionId>.aliyuncs.com`'),
      regionId: doc(
        z.string().regex(/^[a-z0-9-]+$/, 'expected a region id such as cn-hangzhou').optional(),
        'KMS region; derived from an aliyuncs.com endpoint when absent.',
        'string',
        'from endpoint',
      ),
      cmk: doc(z.string().min(1), 'The CMK (key id, alias or ARN) that issues data keys.', 'string'),
      accessKeyId: doc(credential(), 'AccessKey id for KMS; defaults to the SLS credentials.', 'string'),
      accessKeySecret: doc(credential(), 'AccessKey secret for KMS; required together with accessKeyId.', 'string'),
      securityToken: doc(credential(), 'STS token for KMS.', 'string'),
    })
    .transform((k, ctx) => {
      if (k.accessKeyId !== undefined && k.accessKeySecret === undefined) {
        ctx.addIssue({ code: 'custom', path: ['accessKeySecret'], message: 'is required when accessKeyId is set' });
      }
      if (k.accessKeySecret !== undefined && k.accessKeyId === undefined) {
        ctx.addIssue({ code: 'custom', path: ['accessKeyId'], message: 'is required when accessKeySecret is set' });
      }
      if (k.securityToken !== undefined && k.accessKeyId === undefined) {
        ctx.addIssue({ code: 'custom', path: ['securityToken'], message: 'needs accessKeyId and accessKeySecret' });
      }
      const regionId = k.regionId ?? (k.endpoint ? KMS_HOST.exec(new URL(k.endpoint).hostname)?.[1] : undefined);
      if (k.endpoint === undefined && regionId === undefined) {
        ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'is required (or set kms.regionId)' });
        return z.NEVER;
      }
      if (regionId === undefined) {
        ctx.addIssue({ code: 'custom', path: ['regionId'], message: 'is required: it cannot be derived from this endpoint' });
        return z.NEVER;
      }
      return { ...k, endpoint: k.endpoint ?? `https://kms.${regionId}.aliyuncs.com`, regionId };
    });

  const seal = z
    .strictObject({
      algorithm: doc(z.enum(['AES_256_GCM', 'SM4_128_GCM']).prefault('AES_256_GCM'), 'Cipher suite (FORMAT.md).'),
      mode: doc(z.enum(['group', 'log']).prefault('group'), 'Seal whole LogGroups, or each log on its own.'),
      zip: doc(z.enum(['lz4', 'none']).prefault('lz4'), 'Compress the plaintext before sealing (mode group).'),
      backend: doc(
        z.enum(['auto', 'addon', 'native', 'js']).prefault('auto'),
        "Cipher implementation: addon (logseal's native addon; SM4 only, AES runs node:crypto), native (node:crypto), js; auto picks the fastest that passes a self-test.",
      ),
      threads: doc(integer({ min: 1, max: 256 }).optional(), 'Sealing worker threads.', 'integer', 'CPU cores'),
      index: doc(
        z
          .array(z.string().regex(INDEXED_FIELD, 'expected a field name: letters, digits, `_`, `.` or `-`, at most 64'))
          .max(16)
          .refine((fields) => new Set(fields).size === fields.length, 'lists a field twice')
          .prefault([]),
        'Fields made searchable with `logseal search` (FORMAT.md "Searchable fields"): keyed equality tokens beside the records. SLS learns which logs share a value, never the value. Needs `seal.indexKey`.',
        'list of field names',
      ),
      indexKey: doc(
        z.string().min(1).optional(),
        'CiphertextBlob of the index key, as `logseal index-key create` prints it (one per Logstore).',
        'string',
      ),
      rotate: doc(
        z
          .strictObject({
            maxAge: doc(duration({ min: 1000, max: 86_400_000 }).prefault('5m'), 'Use a fresh data key after this long.', 'duration'),
            maxRecords: doc(integer({ min: 1, max: MAX_RECORDS_PER_KEY }).prefault(16_777_216), 'Use a fresh data key after sealing this many records.', 'integer'),
            maxBytes: doc(size({ min: 1024, max: 2 ** 50 }).prefault('64GiB'), 'Use a fresh data key after sealing this many plaintext bytes.', 'size'),
          })
          .prefault({}),
        'When to ask KMS for a new data key.',
        'mapping',
      ),
    })
    .superRefine((s, ctx) => {
      if (s.index.length > 0 && s.indexKey === undefined) {
        ctx.addIssue({ code: 'custom', path: ['indexKey'], message: 'is required when seal.index lists fields (create one with `logseal index-key create`)' });
      }
    })
    .transform((s) => ({ ...s, threads: s.threads ?? os.availableParallelism() }));

  const batch = z.strictObject({
    maxBytes: doc(size({ min: 1024, max: SLS_MAX_GROUP_BYTES }).prefault('2MiB'), 'Ship a batch once its logs reach this size (SLS allows 5MiB).', 'size'),
    maxLogs: doc(integer({ min: 1, max: SLS_MAX_GROUP_LOGS }).prefault(SLS_MAX_GROUP_LOGS), 'Ship a batch once it holds this many logs (SLS allows 4096).', 'integer'),
    linger: doc(duration({ min: 0, max: 600_000 }).prefault('1s'), 'Ship a batch at the latest this long after its first log.', 'duration'),
  });

  const parser = z.preprocess(
    (v) => (typeof v === 'string' ? { type: v } : v),
    z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('raw') }),
      z.strictObject({ type: z.literal('json') }),
      z.strictObject({ type: z.literal('regex'), pattern: regexPattern({ namedGroups: true }) }),
    ]),
  );

  const multiline = z.strictObject({
    startPattern: doc(regexPattern({ namedGroups: false }), 'A line matching this starts a new event; others are appended to it.', 'regex'),
    flushTimeout: doc(duration({ min: 1, max: 600_000 }).prefault('1s'), 'Emit a pending event after this much quiet.', 'duration'),
    maxLines: doc(integer({ min: 1, max: 100_000 }).optional(), 'Emit an event once it has this many lines.', 'integer'),
  });

  const input = z.strictObject({
    paths: doc(
      z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string().min(1)).min(1)),
      'Glob patterns of files to tail (`*`, `**`, `?`, `[...]`, `{a,b}`).',
      'list of globs',
    ),
    exclude: doc(z.array(z.string().min(1)).prefault([]), 'Glob patterns of files to skip.', 'list of globs'),
    topic: doc(z.string().prefault(''), 'LogGroup topic (stays visible).', 'string'),
    source: doc(z.string().min(1).optional(), 'LogGroup source (stays visible).', 'string', 'host name'),
    parser: doc(parser.prefault('raw'), 'How a line becomes fields: `raw` (one field `content`), `json`, or `{type: regex, pattern}` with named groups.', '`raw` \\| `json` \\| mapping'),
    startAt: doc(z.enum(['beginning', 'end']).prefault('end'), 'Where to start in a file seen for the first time at start-up (files appearing later are read from the beginning).'),
    multiline: doc(multiline.optional(), 'Join continuation lines (stack traces) into one event.', 'mapping'),
    maxLineBytes: doc(size({ min: 256, max: 2 ** 20 }).prefault('512KiB'), 'Longer lines are split into pieces of this size.', 'size'),
    fields: doc(stringMap(), 'Static fields added to every log.', 'map of strings'),
    tags: doc(stringMap(), 'Tags added to every LogGroup (they stay visible).', 'map of strings'),
    logstore: doc(logstoreName().optional(), "Logstore that receives this input's sealed logs (same project and endpoint).", 'string', 'sls.logstore'),
    cmk: doc(z.string().min(1).optional(), "The CMK that issues the data keys of this input's logs.", 'string', 'kms.cmk'),
    format: doc(
      z.enum(['lines', 'cri', 'docker', 'auto']).prefault('lines'),
      'How the file is written: `lines` (each line a log), `cri` (kubelet/containerd `<time> <stream> <P|F> <log>`) or `docker` (json-file), partial lines joined and the runtime\'s time and stream (`_stream_`) kept; `auto` picks cri or docker per file from its first line. Lines in neither format are shipped as they are with `__parse_error__`.',
    ),
    container: doc(
      z.strictObject({
        metadata: doc(
          z.enum(['fields', 'tags', 'none']).prefault('fields'),
          'Where `_namespace_`, `_pod_name_`, `_container_name_` read from a kubelet log path go: sealed `fields`, visible `tags`, or `none`.',
        ),
      }).prefault({}),
      'Container log settings (with format cri, docker or auto).',
      'mapping',
    ),
    ignoreOlder: doc(duration({ min: 1000, max: 10 * 365 * 86_400_000 }).optional(), 'Do not open files not modified for this long; one written again is read from where it ended (files with a checkpoint are always resumed).', 'duration'),
    rateLimit: doc(
      z.strictObject({
        linesPerSecond: doc(integer({ min: 1, max: 100_000_000 }).optional(), 'Most lines per second read from this input\'s files.', 'integer'),
        bytesPerSecond: doc(size({ min: 1024, max: 2 ** 40 }).optional(), 'Most bytes per second read from this input\'s files.', 'size'),
      }).optional(),
      'Pause reading this input while over these rates (nothing is dropped).',
      'mapping',
    ),
    closeInactive: doc(
      duration({ min: 1000, max: 7 * 86_400_000 }).prefault('5m'),
      'Close a file idle at its end this long; it is reopened (same dev+ino and first bytes) when it changes.',
      'duration',
    ),
  }).superRefine((i, ctx) => {
    // Joining continuation lines would need each container line's stream and time carried through the joiner.
    if (i.multiline && i.format !== 'lines') {
      ctx.addIssue({ code: 'custom', path: ['multiline'], message: `cannot be combined with format ${i.format}` });
    }
  });

  return z.strictObject({
    sls: doc(sls, 'Where the sealed logs go.', 'mapping'),
    kms: doc(kms, 'Where data keys come from.', 'mapping'),
    seal: doc(seal.prefault({}), 'How logs are sealed.', 'mapping'),
    batch: doc(batch.prefault({}), 'How logs are grouped into LogGroups.', 'mapping'),
    inputs: doc(z.array(input).min(1), 'Files to tail.', 'list'),
    maxOpenFiles: doc(
      integer({ min: 16, max: 1_000_000 }).prefault(1024),
      'Input files held open at once, across all inputs; the least recently active are closed first and reopened when they change.',
      'integer',
    ),
    stateDir: doc(z.string().min(1).prefault('/var/lib/logseal'), 'Directory for checkpoints and the spool; relative paths resolve against the working directory.', 'path'),
    spool: doc(
      z.strictObject({
        maxBytes: doc(size({ min: 0, max: 2 ** 50 }).prefault('1GiB'), 'Disk space for sealed batches SLS has not accepted yet; 0 keeps none.', 'size'),
      }).prefault({}),
      'The disk spool.',
      'mapping',
    ),
    deadLetter: doc(
      z.strictObject({
        dir: doc(z.string().min(1).optional(), 'Directory for sealed batches SLS refused for good (e.g. a log too large); relative paths resolve against the working directory.', 'path', '`<stateDir>/dead-letter`'),
        maxBytes: doc(size({ min: 0, max: 2 ** 50 }).prefault('256MiB'), 'Disk space for refused batches; a batch that does not fit is dropped (logged and counted); 0 keeps none.', 'size'),
      }).prefault({}),
      'Where batches SLS refuses for good go, so they no longer hold up the others; `logseal decrypt --dead-letter DIR` reads them.',
      'mapping',
    ),
    drain: doc(
      z.strictObject({
        timeout: doc(duration({ min: 0, max: 3_600_000 }).prefault('30s'), 'On shutdown, how long to keep shipping what was read.', 'duration'),
      }).prefault({}),
      'Shutdown behaviour.',
      'mapping',
    ),
    metrics: doc(
      z.strictObject({
        listen: doc(listenAddress().prefault('127.0.0.1:9464'), 'Prometheus metrics address, or false to turn it off.', 'host:port or false'),
      }).prefault({}),
      'The metrics endpoint.',
      'mapping',
    ),
    log: doc(
      z.strictObject({
        level: doc(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'), "The agent's own log level."),
      }).prefault({}),
      "The agent's own log.",
      'mapping',
    ),
  });
}

/** The parsed, normalized config: durations in milliseconds, sizes in bytes, endpoints as URL origins. */
export type Config = z.output<ReturnType<typeof configSchema>>;
export type InputSettings = Config['inputs'][number];
