// Config parsing: defaults, normalization, env substitution and one-line errors that name the key but never a secret.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../agent/config/index.js';

const MINIMAL = `
sls: { endpoint: cn-hangzhou.log.aliyuncs.com, project: demo, logstore: app }
kms: { endpoint: kms.cn-hangzhou.aliyuncs.com, cmk: key-1234 }
inputs:
  - paths: ["/var/log/app/*.log"]
`;

function parse(text: string, env: NodeJS.ProcessEnv = {}) {
  return parseConfig(text, 'config.yaml', env);
}

function failure(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parse(text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).not.toMatch(/[\r\n]/);
    expect(e.message.startsWith('config.yaml')).toBe(true);
    return e;
  }
  throw new Error('expected a ConfigError');
}

describe('a valid config', () => {
  it('fills every default and normalizes units and endpoints', () => {
    const c = parse(MINIMAL);
    expect(c.sls).toEqual({
      endpoint: 'https://cn-hangzhou.log.aliyuncs.com', project: 'demo', logstore: 'app', compress: 'auto', timeout: 30_000, maxInFlight: 8, concurrency: 'adaptive',
    });
    expect(c.kms).toEqual({ endpoint: 'https://kms.cn-hangzhou.aliyuncs.com', regionId: 'cn-hangzhou', cmk: 'key-1234' });
    expect(c.seal).toEqual({
      algorithm: 'AES_256_GCM', mode: 'group', zip: 'lz4', backend: 'auto', threads: os.availableParallelism(), index: [],
      rotate: { maxAge: 300_000, maxRecords: 16_777_216, maxBytes: 64 * 2 ** 30 },
    });
    expect(c.batch).toEqual({ maxBytes: 2 * 2 ** 20, maxLogs: 4096, linger: 1000 });
    expect(c.inputs).toEqual([{
      paths: ['/var/log/app/*.log'], exclude: [], topic: '', parser: { type: 'raw' }, startAt: 'end', maxLineBytes: 512 * 1024, fields: {}, tags: {},
      format: 'lines', container: { metadata: 'fields' }, closeInactive: 300_000,
    }]);
    expect(c.maxOpenFiles).toBe(1024);
    expect(c.stateDir).toBe('/var/lib/logseal');
    expect(c.spool).toEqual({ maxBytes: 2 ** 30 });
    expect(c.drain).toEqual({ timeout: 30_000 });
    expect(c.metrics).toEqual({ listen: { host: '127.0.0.1', port: 9464 } });
    expect(c.log).toEqual({ level: 'info' });
  });

  it('takes explicit values and their units', () => {
    const c = parse(`
sls: { endpoint: "http://127.0.0.1:8080/", project: p-1, logstore: ls_1, accessKeyId: id, accessKeySecret: s, securityToken: t,
       compress: deflate, timeout: 1500ms, maxInFlight: 2, createLogstore: { ttl: 7, encrypt_conf: { enable: true, encrypt_type: m4,
       user_cmk_info: { cmk_key_id: k, arn: "acs:ram::1:role/r", region_id: cn-hangzhou } } } }
kms: { endpoint: "http://localhost:9000", regionId: cn-shanghai, cmk: alias/x, accessKeyId: kid, accessKeySecret: ksec }
seal: { algorithm: SM4_128_GCM, mode: log, zip: none, backend: js, threads: 3, rotate: { maxAge: 1h, maxRecords: 100, maxBytes: 1GB } }
batch: { maxBytes: 5MiB, maxLogs: 10, linger: 0 }
inputs:
  - paths: /a.log
    parser: json
    startAt: beginning
    multiline: { startPattern: '^\\d', maxLines: 50 }
    maxLineBytes: 1KiB
    fields: { n: 1, ok: true }
    tags: { env: prod }
  - paths: [/b.log]
    source: host-b
    parser: { type: regex, pattern: '^(?<level>\\w+) (?<msg>.*)$' }
stateDir: ./state
spool: { maxBytes: 0 }
metrics: { listen: false }
log: { level: debug }
`);
    expect(c.sls.endpoint).toBe('http://127.0.0.1:8080');
    expect(c.sls.createLogstore).toEqual({
      ttl: 7, shardCount: 2,
      encrypt_conf: { enable: true, encrypt_type: 'm4', user_cmk_info: { cmk_key_id: 'k', arn: 'acs:ram::1:role/r', region_id: 'cn-hangzhou' } },
    });
    expect(c.sls.timeout).toBe(1500);
    expect(c.kms).toMatchObject({ endpoint: 'http://localhost:9000', regionId: 'cn-shanghai', accessKeyId: 'kid' });
    expect(c.seal).toMatchObject({ algorithm: 'SM4_128_GCM', mode: 'log', zip: 'none', backend: 'js', threads: 3 });
    expect(c.seal.rotate).toEqual({ maxAge: 3_600_000, maxRecords: 100, maxBytes: 1e9 });
    expect(c.batch).toEqual({ maxBytes: 5 * 2 ** 20, maxLogs: 10, linger: 0 });
    expect(c.inputs[0]).toMatchObject({
      paths: ['/a.log'], parser: { type: 'json' }, startAt: 'beginning', multiline: { startPattern: '^\\d', flushTimeout: 1000, maxLines: 50 },
      maxLineBytes: 1024, fields: { n: '1', ok: 'true' }, tags: { env: 'prod' },
    });
    expect(c.inputs[1]!.parser).toEqual({ type: 'regex', pattern: '^(?<level>\\w+) (?<msg>.*)$' });
    expect(c.inputs[1]!.source).toBe('host-b');
    expect(c.spool.maxBytes).toBe(0);
    expect(c.metrics.listen).toBe(false);
  });

  it('derives the KMS endpoint from the region and the region from an aliyuncs.com endpoint', () => {
    const fromRegion = parse(MINIMAL.replace('endpoint: kms.cn-hangzhou.aliyuncs.com', 'regionId: cn-beijing'));
    expect(fromRegion.kms).toMatchObject({ endpoint: 'https://kms.cn-beijing.aliyuncs.com', regionId: 'cn-beijing' });
    const vpc = parse(MINIMAL.replace('kms.cn-hangzhou', 'kms-vpc.ap-southeast-1'));
    expect(vpc.kms.regionId).toBe('ap-southeast-1');
  });

  it('takes container formats, ignoreOlder and rateLimit with their units', () => {
    const text = MINIMAL.replace('  - paths: ["/var/log/app/*.log"]', '  - paths: ["/var/log/pods/*/*/*.log"]\n    format: auto\n    container: { metadata: tags }\n    ignoreOlder: 2h\n    rateLimit: { linesPerSecond: 5000, bytesPerSecond: 4MiB }');
    expect(parse(text).inputs[0]).toMatchObject({ format: 'auto', container: { metadata: 'tags' }, ignoreOlder: 7_200_000, rateLimit: { linesPerSecond: 5000, bytesPerSecond: 4 * 2 ** 20 } });
  });

  it('parses IPv6 metrics addresses', () => {
    expect(parse(`${MINIMAL}metrics: { listen: "[::1]:9000" }\n`).metrics.listen).toEqual({ host: '::1', port: 9000 });
  });
});

describe('bad input names the key in one line', () => {
  const withInput = (extra: string) => MINIMAL.replace('  - paths: ["/var/log/app/*.log"]', `  - paths: ["/x"]\n${extra}`);
  it.each([
    ['wrong type', MINIMAL.replace('project: demo', 'project: 5'), 'sls.project: expected a string'],
    ['wrong type of a section', `${MINIMAL}batch: 5\n`, 'batch: expected a mapping'],
    ['unknown top-level key', `${MINIMAL}stateDirr: /x\n`, 'stateDirr: unknown key'],
    ['unknown nested key', MINIMAL.replace('project: demo', 'projcet: demo, project: demo'), 'sls.projcet: unknown key'],
    ['unknown key in a list entry', withInput('    pathz: [a]'), 'inputs[0].pathz: unknown key'],
    ['bad duration', `${MINIMAL}batch: { linger: 30 }\n`, 'batch.linger: expected a duration'],
    ['bad duration unit', `${MINIMAL}drain: { timeout: 3 days }\n`, 'drain.timeout: expected a duration'],
    ['duration out of range', `${MINIMAL}sls2: 1\n`.replace('sls2: 1\n', 'seal: { rotate: { maxAge: 10ms } }\n'), 'seal.rotate.maxAge: must be between 1s and 1d'.replace('1d', '24h')],
    ['bad size', `${MINIMAL}spool: { maxBytes: 1XB }\n`, 'spool.maxBytes: expected a size'],
    ['size over the SLS limit', `${MINIMAL}batch: { maxBytes: 6MiB }\n`, 'batch.maxBytes: must be between 1KiB and 5MiB'],
    ['too many logs per group', `${MINIMAL}batch: { maxLogs: 5000 }\n`, 'batch.maxLogs: must be at most 4096'],
    ['not an integer', `${MINIMAL}seal: { threads: 1.5 }\n`, 'seal.threads: expected an integer'],
    ['searchable fields without an index key', `${MINIMAL}seal: { index: [user] }\n`, 'seal.indexKey: is required when seal.index lists fields'],
    ['a searchable field that cannot name an SLS key', `${MINIMAL}seal: { index: ["a,b"], indexKey: k }\n`, 'seal.index[0]: expected a field name'],
    ['a searchable field listed twice', `${MINIMAL}seal: { index: [user, user], indexKey: k }\n`, 'seal.index: lists a field twice'],
    ['missing required', MINIMAL.replace('project: demo, ', ''), 'sls.project: is required'],
    ['missing section', MINIMAL.replace(/^kms:.*$/m, ''), 'kms: is required'],
    ['missing cmk', MINIMAL.replace(', cmk: key-1234', ''), 'kms.cmk: is required'],
    ['no inputs', MINIMAL.replace(/inputs:[\s\S]*/, 'inputs: []\n'), 'inputs: needs at least 1 entry'],
    ['empty paths', withInput('').replace('paths: ["/x"]', 'paths: []'), 'inputs[0].paths: needs at least 1 entry'],
    ['bad enum', `${MINIMAL}sls2: 1`.replace('sls2: 1', 'log: { level: loud }'), 'log.level: expected one of fatal, error, warn, info, debug, trace, silent'],
    ['bad endpoint', MINIMAL.replace('endpoint: cn-hangzhou.log.aliyuncs.com', 'endpoint: "ftp://x"'), 'sls.endpoint: expected a URL or host name'],
    ['endpoint with a path', MINIMAL.replace('endpoint: cn-hangzhou.log.aliyuncs.com', 'endpoint: "https://h/x"'), 'sls.endpoint: expected a URL or host name'],
    ['bad project name', MINIMAL.replace('project: demo', 'project: Demo_1'), 'sls.project: expected a project name'],
    ['region not derivable', MINIMAL.replace('kms.cn-hangzhou.aliyuncs.com', '"http://127.0.0.1:1"'), 'kms.regionId: is required'],
    ['half a credential pair', MINIMAL.replace('logstore: app', 'logstore: app, accessKeyId: x'), 'sls.accessKeySecret: is required when accessKeyId is set'],
    ['bad parser type', withInput('    parser: xml'), 'inputs[0].parser.type: expected one of raw, json, regex'],
    ['regex parser without pattern', withInput('    parser: { type: regex }'), 'inputs[0].parser.pattern: is required'],
    ['bad regex in parser', withInput('    parser: { type: regex, pattern: "(?<a>x" }'), 'inputs[0].parser.pattern: not a valid regular expression'],
    ['regex parser without named groups', withInput('    parser: { type: regex, pattern: "a+" }'), 'inputs[0].parser.pattern: needs at least one named group'],
    ['bad regex in multiline', withInput('    multiline: { startPattern: "[a-" }'), 'inputs[0].multiline.startPattern: not a valid regular expression'],
    ['reserved tag', withInput('    tags: { __path__: x }'), 'inputs[0].tags.__path__: names starting with __ are reserved'],
    ['bad container format', withInput('    format: json-file'), 'inputs[0].format: expected one of lines, cri, docker, auto'],
    ['multiline with a container format', withInput('    format: cri\n    multiline: { startPattern: "^\\\\S" }'), 'inputs[0].multiline: cannot be combined with format cri'],
    ['bad metadata placement', withInput('    format: cri\n    container: { metadata: labels }'), 'inputs[0].container.metadata: expected one of fields, tags, none'],
    ['bad ignoreOlder', withInput('    ignoreOlder: 10'), 'inputs[0].ignoreOlder: expected a duration'],
    ['rate limit of nothing', withInput('    rateLimit: { linesPerSecond: 0 }'), 'inputs[0].rateLimit.linesPerSecond: must be at least 1'],
    ['bad listen address', `${MINIMAL}metrics: { listen: "9464" }\n`, 'metrics.listen: expected host:port'],
    ['bad YAML', 'sls: {\n', 'config.yaml:2:1: YAML syntax error'],
    ['duplicate key', `${MINIMAL}sls: {}\n`, 'YAML syntax error: Map keys must be unique'],
    ['not a mapping', '- a\n- b\n', 'config.yaml: expected a mapping of keys at the top level'],
  ])('%s', (_name, text, expected) => {
    expect(failure(text).message).toContain(expected);
  });

  it('counts further problems without listing them', () => {
    const e = failure(MINIMAL.replace('project: demo', 'project: 5').replace('cmk: key-1234', 'cmk: ""'));
    expect(e.message).toBe('config.yaml: sls.project: expected a string (and 1 more problem)');
  });

  it('exposes the key path and the problem separately', () => {
    const e = failure(`${MINIMAL}batch: { linger: 30 }\n`);
    expect(e.keyPath).toBe('batch.linger');
    expect(e.file).toBe('config.yaml');
  });
});

describe('environment variables', () => {
  const TEMPLATE = `
sls: { endpoint: "\${SLS_HOST}", project: demo, logstore: app, accessKeyId: "\${AK_ID}", accessKeySecret: "\${AK_SECRET}" }
kms: { endpoint: "\${KMS_URL:-kms.cn-hangzhou.aliyuncs.com}", cmk: "key-\${KEY_SUFFIX:-default}" }
sealx_placeholder: 0
inputs: [ { paths: ["\${LOG_DIR}/*.log"], topic: "literal $\${NOT_A_VAR}" } ]
batch: { maxLogs: "\${MAX_LOGS:-100}" }
`.replace('sealx_placeholder: 0\n', '');
  const ENV = { SLS_HOST: 'http://127.0.0.1:9000', AK_ID: 'id', AK_SECRET: 'sec', LOG_DIR: '/srv/logs' };

  it('substitutes ${VAR}, ${VAR:-default} and $${ escapes inside values', () => {
    const c = parse(TEMPLATE, ENV);
    expect(c.sls).toMatchObject({ endpoint: 'http://127.0.0.1:9000', accessKeyId: 'id', accessKeySecret: 'sec' });
    expect(c.kms).toMatchObject({ endpoint: 'https://kms.cn-hangzhou.aliyuncs.com', cmk: 'key-default' });
    expect(c.inputs[0]!.paths).toEqual(['/srv/logs/*.log']);
    expect(c.inputs[0]!.topic).toBe('literal ${NOT_A_VAR}');
    expect(c.batch.maxLogs).toBe(100);
    const overridden = parse(TEMPLATE, { ...ENV, KEY_SUFFIX: 'x', MAX_LOGS: '7', KMS_URL: 'kms.cn-shanghai.aliyuncs.com' });
    expect(overridden.kms).toMatchObject({ cmk: 'key-x', regionId: 'cn-shanghai' });
    expect(overridden.batch.maxLogs).toBe(7);
  });

  it('an empty variable takes the default, an empty credential means "use the chain"', () => {
    const c = parse(TEMPLATE.replace('"${AK_ID}"', '"${EMPTY:-}"').replace('"${AK_SECRET}"', '""'), { ...ENV, EMPTY: '' });
    expect(c.sls.accessKeyId).toBeUndefined();
    expect(c.sls.accessKeySecret).toBeUndefined();
  });

  it('a missing variable without default names the variable and the key', () => {
    const { AK_SECRET: _omitted, ...env } = ENV;
    const e = failure(TEMPLATE, env);
    expect(e.message).toBe(
      'config.yaml: sls.accessKeySecret: environment variable AK_SECRET is not set (use ${AK_SECRET:-default} for a default)',
    );
  });

  it('a malformed reference is an error', () => {
    expect(failure(TEMPLATE.replace('${LOG_DIR}', '${LOG-DIR}'), ENV).message).toContain('inputs[0].paths[0]: malformed ${...} reference');
    expect(failure(TEMPLATE.replace('${LOG_DIR}', '${LOG_DIR'), ENV).message).toContain('inputs[0].paths[0]: malformed');
  });

  it('a substituted value cannot change the structure of the file', () => {
    const c = parse(TEMPLATE, { ...ENV, AK_SECRET: 'a: b\n# c\n  - d' });
    expect(c.sls.accessKeySecret).toBe('a: b\n# c\n  - d');
  });
});

describe('secrets never appear in messages', () => {
  const SECRET = 'Zx9-SECRET-q7Lw+/Pk';
  it.each([
    ['a secret in the wrong-typed field', `${MINIMAL}batch: { maxLogs: "\${S}" }\n`],
    ['a secret as a duration', `${MINIMAL}batch: { linger: "\${S}" }\n`],
    ['a secret as an endpoint', MINIMAL.replace('endpoint: cn-hangzhou.log.aliyuncs.com', 'endpoint: "${S}"')],
    ['a secret under an unknown key', MINIMAL.replace('logstore: app', 'logstore: app, accessKeySecrett: "${S}"')],
    ['a secret as an enum value', `${MINIMAL}sls2: 1`.replace('sls2: 1', 'log: { level: "${S}" }')],
    ['a secret on a line with a YAML error', `sls: { accessKeySecret: ${SECRET} ]\n`],
    ['a secret literally in the wrong place', `${MINIMAL}seal: { threads: "${SECRET}" }\n`],
    ['a secret in an unclosed quote', `sls:\n  accessKeySecret: "${SECRET}\n`],
  ])('%s', (_name, text) => {
    const e = failure(text, { S: SECRET });
    expect(e.message).not.toContain(SECRET);
    expect(e.message).not.toContain('SECRET');
    expect(String(e.stack)).not.toContain(SECRET);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'logseal-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file and names it in errors', async () => {
    const good = path.join(dir, 'good.yaml');
    await writeFile(good, MINIMAL);
    expect((await loadConfig(good, {})).sls.project).toBe('demo');
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, `${MINIMAL}oops: 1\n`);
    await expect(loadConfig(bad, {})).rejects.toThrow(`${bad}: oops: unknown key`);
  });

  it('reports a missing file in one line', async () => {
    const missing = path.join(dir, 'nope.yaml');
    await expect(loadConfig(missing, {})).rejects.toThrow(new ConfigError(missing, '', 'file not found'));
  });
});
