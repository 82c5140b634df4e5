// `logseal logstore create|get|update|delete`: manage a Logstore and its encrypt_conf on any SLS endpoint.
import { credentialsFromEnv, loadConfig, resolveCredentials } from '../../config/index.js';
import { ensureTokenIndex } from '../../search/index.js';
import { normalizeEndpoint } from '../../config/schema.js';
import { SlsClient, type EncryptConf, type LogstoreSpec } from '../../ship/index.js';
import { UsageError } from '../exit.js';

export interface LogstoreFlags {
  config?: string;
  endpoint?: string;
  project?: string;
  ttl?: string;
  shards?: string;
  encrypt?: boolean;
  encryptType?: string;
  cmk?: string;
  arn?: string;
  region?: string;
  index?: string;
}

/** The client, and the searchable fields to index: `--index`, else the config's seal.index. */
async function clientFor(flags: LogstoreFlags): Promise<{ client: SlsClient; indexed: string[] }> {
  const listed = flags.index?.split(',').map((f) => f.trim()).filter((f) => f !== '');
  if (flags.config) {
    const config = await loadConfig(flags.config);
    const client = new SlsClient({
      endpoint: flags.endpoint ? endpointOf(flags.endpoint) : config.sls.endpoint,
      project: flags.project ?? config.sls.project,
      credentials: resolveCredentials(config, 'sls'),
    });
    return { client, indexed: listed ?? config.seal.index };
  }
  if (!flags.endpoint || !flags.project) throw new UsageError('give -c CONFIG, or --endpoint and --project');
  const credentials = credentialsFromEnv();
  if (!credentials) throw new UsageError('without -c, credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  const client = new SlsClient({ endpoint: endpointOf(flags.endpoint), project: flags.project, credentials });
  return { client, indexed: listed ?? [] };
}

const FIELD = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Sets up the SLS index on the token keys of the searchable fields, and says which keys it added. */
async function indexFields(client: SlsClient, name: string, fields: string[]): Promise<void> {
  if (fields.length === 0) return;
  const bad = fields.find((f) => !FIELD.test(f));
  if (bad !== undefined) throw new UsageError(`--index: expected field names (letters, digits, _ . -), got "${bad}"`);
  const added = await ensureTokenIndex(client, name, fields);
  if (added.length > 0) process.stderr.write(`logseal: indexed ${added.join(', ')} in ${name}\n`);
}

function endpointOf(raw: string): string {
  const url = normalizeEndpoint(raw);
  if (!url) throw new UsageError(`--endpoint: expected a URL or host name, got "${raw}"`);
  return url;
}

function positiveInt(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag}: expected a positive whole number, got "${raw}"`);
  return n;
}

function encryptConf(flags: LogstoreFlags): EncryptConf | undefined {
  if (flags.encrypt === undefined && !flags.encryptType && !flags.cmk) return undefined;
  const type = flags.encryptType ?? 'default';
  if (type !== 'default' && type !== 'm4') throw new UsageError(`--encrypt-type: expected default (AES) or m4 (SM4), got "${type}"`);
  const conf: EncryptConf = { enable: flags.encrypt ?? true, encrypt_type: type };
  if (flags.cmk) {
    if (!flags.arn || !flags.region) throw new UsageError('--cmk needs --arn (RAM role acs:ram::<account>:role/<name>) and --region');
    conf.user_cmk_info = { cmk_key_id: flags.cmk, arn: flags.arn, region_id: flags.region };
  }
  return conf;
}

export async function logstoreCommand(action: string, name: string, flags: LogstoreFlags): Promise<void> {
  const { client, indexed } = await clientFor(flags);
  try {
    switch (action) {
      case 'create': {
        const conf = encryptConf(flags);
        const spec: LogstoreSpec = {
          logstoreName: name,
          ttl: positiveInt(flags.ttl, '--ttl', 30),
          shardCount: positiveInt(flags.shards, '--shards', 2),
          ...(conf ? { encrypt_conf: conf } : {}),
        };
        await client.createLogstore(spec);
        await indexFields(client, name, indexed);
        process.stdout.write(`${JSON.stringify(await client.getLogstore(name))}\n`);
        return;
      }
      case 'get':
        process.stdout.write(`${JSON.stringify(await client.getLogstore(name))}\n`);
        return;
      case 'update': {
        // SLS wants the whole encrypt_conf on every update: start from what is there and change only what was asked.
        const current = await client.getLogstore(name);
        let conf = current.encrypt_conf;
        if (flags.encrypt !== undefined || flags.encryptType || flags.cmk) {
          const asked = encryptConf({ ...flags, encryptType: flags.encryptType ?? current.encrypt_conf?.encrypt_type });
          conf = { ...(current.encrypt_conf ?? {}), ...asked!, ...(flags.encrypt === undefined && current.encrypt_conf ? { enable: current.encrypt_conf.enable } : {}) };
        }
        await client.updateLogstore({
          ...current,
          ttl: positiveInt(flags.ttl, '--ttl', current.ttl),
          ...(conf ? { encrypt_conf: conf } : {}),
        });
        await indexFields(client, name, indexed);
        process.stdout.write(`${JSON.stringify(await client.getLogstore(name))}\n`);
        return;
      }
      case 'delete':
        await client.deleteLogstore(name);
        return;
      default:
        throw new UsageError(`logstore: unknown action "${action}" (expected create, get, update or delete)`);
    }
  } finally {
    await client.close();
  }
}
